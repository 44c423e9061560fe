"""Pipeline orchestration: config, DAG executor, quota, run records, control store, dbt."""
