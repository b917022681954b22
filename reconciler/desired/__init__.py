"""The desired state: its types and model, loading, tedge.toml, defaults, schema and secret sources."""
