"""Deployment helpers: precomputed result store, nginx rendering, replicas, warm-up, health check."""
