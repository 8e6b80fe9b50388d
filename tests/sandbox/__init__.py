"""Tests of the platform sandbox (real HTTP on loopback)."""
