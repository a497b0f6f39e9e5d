"""The threads that answer messages, apart from the threads that serve requests.

A request hands its message to this pool and waits without holding a request thread (the JSON
call awaits the result; a streamed call reads its events as they come). A streamed call whose
client goes away does not stop its message: the job runs on, and the reply is stored.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import Future, ThreadPoolExecutor

from assistant.chat import ChatService, MessageOutcome
from assistant.pipeline.streaming import EventSink


class MessageWorkers:
    def __init__(self, chat: ChatService, *, workers: int) -> None:
        self.chat = chat
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tether-message")

    def submit(
        self, conversation_id: str, text: str, events: EventSink | None = None
    ) -> Future[MessageOutcome]:
        # The job keeps the request's context (its trace id goes into the logs and the record).
        context = contextvars.copy_context()
        return self._pool.submit(context.run, self.chat.post_message, conversation_id, text, events)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
