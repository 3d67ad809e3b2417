"""The LTV service: the old API and its dashboard over the published marts."""
