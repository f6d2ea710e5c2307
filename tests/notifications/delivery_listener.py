"""A stand-in case workflow that only collects `delivery_event` signals."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.messages import DeliveryEvent, SignalName


@workflow.defn
class DeliveryListener:
    """Runs until terminated, keeping every delivery event it is sent."""

    def __init__(self) -> None:
        self._received: list[DeliveryEvent] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=SignalName.DELIVERY_EVENT)
    def delivery_event(self, event: DeliveryEvent) -> None:
        self._received.append(event)

    @workflow.query
    def received(self) -> list[DeliveryEvent]:
        return self._received
