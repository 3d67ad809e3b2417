"""Settings, the in-memory snapshot of the published marts, and background builds."""
