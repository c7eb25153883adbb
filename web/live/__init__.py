"""The live feed: one Redis subscription per web process, fanned out to websocket clients."""
