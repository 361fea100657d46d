"""Grafana dashboards shipped as data (see NOTICE for their source and license)."""
