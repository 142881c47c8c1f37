"""The performance engine: solvers, workload physics, results."""
