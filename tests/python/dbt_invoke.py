"""dbt run in-process (`dbtRunner`), for the pytest suites here and in tests/spark."""

from dbt.cli.main import dbtRunner, dbtRunnerResult


def run_dbt(args: list) -> dbtRunnerResult:
    """Invoke dbt in-process and fail the test unless the command succeeded."""
    result = dbtRunner().invoke(args)
    assert result.success, f"dbt {' '.join(args)} failed:\n{dbt_failures(result)}"
    return result


def dbt_failures(result: dbtRunnerResult) -> str:
    """The exception, or the nodes that errored or failed, one per line."""
    if result.exception is not None:
        return str(result.exception)
    return "\n".join(
        f"  {node_result.node.name}: {node_result.status}: {node_result.message}"
        for node_result in result.result or []
        if node_result.status in ("error", "fail")
    )
