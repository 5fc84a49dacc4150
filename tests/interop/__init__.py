"""Interop tests against real peers: the Go registry, skopeo, umoci and Redis."""
