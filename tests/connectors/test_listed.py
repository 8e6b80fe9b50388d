"""unlisted_pages: pages completed a chunk at a time, each chunk remembered only once it was stored."""

from __future__ import annotations

from connectors.listed import CHUNK, unlisted_pages


class _Memory:
    def __init__(self, known: set[str]) -> None:
        self.already, self.remembered = known, []

    def known(self, rows):
        return {key for key in rows if key in self.already}

    def remember(self, rows):
        self.remembered.append(sorted(rows))


def _rows(n: int, start: int = 0) -> list[dict]:
    return [{"id": f"o{i:03d}"} for i in range(start, start + n)]


def test_a_long_page_is_completed_in_chunks_and_known_rows_are_skipped():
    calls: list[list[str]] = []

    def bundles(rows):
        calls.append([row.get("id") for row in rows])
        return [{"row": row} for row in rows]

    page = _rows(CHUNK * 2 + 7) + [{"no id": True}]
    memory = _Memory(known={"o003", "o040"})
    chunks = list(unlisted_pages([page], lambda row: row.get("id"), memory, bundles))
    wanted = [row.get("id") for row in page if row.get("id") not in ("o003", "o040")]
    assert [len(c) for c in calls] == [CHUNK, CHUNK, len(wanted) - 2 * CHUNK]
    assert [i for call in calls for i in call] == wanted  # order kept, the row without an id bundled too
    assert [len(chunk) for chunk in chunks] == [len(c) for c in calls]
    assert memory.remembered == [sorted(i for i in call if i) for call in calls]  # never the known ones


def test_a_consumer_killed_after_one_chunk_leaves_only_stored_chunks_remembered():
    memory = _Memory(known=set())
    made: list[int] = []
    pages = unlisted_pages([_rows(CHUNK * 3)], lambda row: row["id"], memory,
                           lambda rows: made.append(len(rows)) or rows)
    next(pages)  # the first chunk handed on; its storing is still under way when the worker dies
    assert made == [CHUNK] and memory.remembered == []  # nothing further fetched, nothing claimed stored
    next(pages)  # the consumer asks for more: the first chunk was stored
    assert memory.remembered == [[f"o{i:03d}" for i in range(CHUNK)]]
    assert made == [CHUNK, CHUNK]
