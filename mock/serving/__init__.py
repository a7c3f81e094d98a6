"""HTTP serving of the vendored spec: validation, the request pipeline, rendering, faults."""
