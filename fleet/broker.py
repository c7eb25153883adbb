"""The embedded MQTT 3.1.1 broker (amqtt), run as a child process of `fleet up`.

    python -m fleet.broker --bind 127.0.0.1:18830
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal


def broker_config(bind: str) -> dict:
    return {
        "listeners": {"default": {"type": "tcp", "bind": bind, "max_connections": 0}},
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        },
    }


async def serve(bind: str) -> None:
    from amqtt.broker import Broker

    broker = Broker(broker_config(bind))
    await broker.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await broker.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description="embedded MQTT broker")
    parser.add_argument("--bind", default="127.0.0.1:18830")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.bind))


if __name__ == "__main__":
    main()
