"""The legacy eras' transports and the state only they keep: the handshake era on /mcp
(`handshake.py`: 2025-11-25, 2025-06-18, 2025-03-26), the 2024-11-05 HTTP+SSE pair (`sse_pair.py`),
and their sessions, resumable event logs and cancellation marks.

Two era-neutral modules reach in here, each for one legacy need: `transport/sse.py` (and
`transport/calls.py`, which passes it on) logs a stream's events when given an event log, so a
legacy stream can be resumed; `guardrails/streams.py` keeps a legacy stream's session alive as it
renews the stream's lease."""
