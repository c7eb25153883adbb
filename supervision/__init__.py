"""Supervision (监督): zones, the violation rules, evidence, reminders and the inspectors'
review (issue #5). A pure core; its PostgreSQL adapters are the *store.py modules and the
`fleet rules` process is supervision/runner.py."""
