"""Rehearsing a run away from production: throwaway PostgreSQL servers."""
