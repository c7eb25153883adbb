"""The device simulator: the scenario's vehicles driving on a simulated clock (world.py, pure),
published over MQTT as their terminals would (publisher.py, main.py)."""
