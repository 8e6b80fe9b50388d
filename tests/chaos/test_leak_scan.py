"""The leak scan counts every occurrence of every forbidden value, per file, in one grep over all logs."""

from __future__ import annotations

from pathlib import Path

from tests.chaos.accounting import leaks


def test_every_occurrence_is_counted_in_the_file_it_is_in(tmp_path: Path):
    values = {"Maria Gonzalez": "pii", "+1 415-555-0134": "pii", "sk-demo-secret-0001": "credential"}
    values |= {f"filler value {n:06d}": "pii" for n in range(5000)}  # many patterns, as in a real run
    logs = {"w1.log": '{"event":"order.held","detail":"Maria Gonzalez at +1 415-555-0134"}\n',
            "w10.log": "clean line\n" * 50,
            "w11.log": "token sk-demo-secret-0001\nagain sk-demo-secret-0001 and filler value 004242\n",
            "empty.log": ""}
    paths = []
    for name, text in logs.items():
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    paths.append(tmp_path / "never-written.log")

    total, by_file = leaks(paths, values, tmp_path)

    assert by_file == {"w1.log": 2, "w11.log": 3}
    assert total == 5
    assert not (tmp_path / "forbidden.txt").exists()
