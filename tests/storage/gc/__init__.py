"""Tests of garbage collection, upload purging and verification of registry storage."""
