"""aiozmq (asyncio): RPC, pipeline and pub/sub over loopback tcp and ipc.

Prints one line: zmq's name, then for each transport the sum computed
remotely, the remote error's type, the notification the pipeline server
got and the message the subscriber got.
"""

import asyncio
import os
import tempfile

import aiozmq.rpc
import zmq

TIMEOUT_S = 10


class Calculator(aiozmq.rpc.AttrHandler):
    @aiozmq.rpc.method
    def add(self, a: int, b: int) -> int:
        return a + b

    @aiozmq.rpc.method
    def fail(self):
        raise ValueError("refused")


class Inbox(aiozmq.rpc.AttrHandler):
    """Pipeline and pub/sub receiver: keeps what it is told."""

    def __init__(self):
        self.got = asyncio.Queue()

    @aiozmq.rpc.method
    def tell(self, text: str):
        self.got.put_nowait(text)


def address(service):
    return next(iter(service.transport.bindings()))


async def closing(*services):
    for service in services:
        service.close()
    for service in services:
        await asyncio.wait_for(service.wait_closed(), TIMEOUT_S)


async def rpc(bind):
    server = await aiozmq.rpc.serve_rpc(Calculator(), bind=bind)
    client = await aiozmq.rpc.connect_rpc(connect=address(server))
    try:
        total = await asyncio.wait_for(client.call.add(40, 2), TIMEOUT_S)
        try:
            await asyncio.wait_for(client.call.fail(), TIMEOUT_S)
            error = "none"
        except ValueError:
            error = "ValueError"
        return [str(total), error]
    finally:
        await closing(client, server)


async def pipeline(bind):
    inbox = Inbox()
    server = await aiozmq.rpc.serve_pipeline(inbox, bind=bind)
    client = await aiozmq.rpc.connect_pipeline(connect=address(server))
    try:
        await client.notify.tell("piped")
        return [await asyncio.wait_for(inbox.got.get(), TIMEOUT_S)]
    finally:
        await closing(client, server)


async def pubsub(bind):
    inbox = Inbox()
    server = await aiozmq.rpc.serve_pubsub(inbox, subscribe="news", bind=bind)
    client = await aiozmq.rpc.connect_pubsub(connect=address(server))
    try:
        # A subscription reaches the publisher some time after connecting:
        # publish until the subscriber has heard.
        async def publish():
            while True:
                await client.publish("news").tell("published")
                await asyncio.sleep(0.05)

        publisher = asyncio.ensure_future(publish())
        try:
            return [await asyncio.wait_for(inbox.got.get(), TIMEOUT_S)]
        finally:
            publisher.cancel()
    finally:
        await closing(client, server)


async def main():
    report = [zmq.__name__]
    ipc = "ipc://" + os.path.join(tempfile.mkdtemp(), "{}")
    for bind in ("tcp://127.0.0.1:*", ipc):
        report += await rpc(bind.format("rpc"))
        report += await pipeline(bind.format("pipeline"))
        report += await pubsub(bind.format("pubsub"))
    print(*report)


if __name__ == "__main__":
    asyncio.run(main())
