"""The `rcflow` command line."""
