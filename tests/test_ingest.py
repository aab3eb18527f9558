"""Ingest: text, Markdown, HTML, folders and bad files."""

import pytest

from gazetteer.errors import DocumentTooLarge, UnreadableDocument
from gazetteer.ingest import Skipped, content_id, decode, make_document, read_paths

LIMIT = 1024 * 1024


def test_plain_text_document_is_keyed_by_its_hash():
    doc = make_document("Fighting in Idlib.\nMore text.", "a.txt")
    assert doc.id == content_id("Fighting in Idlib.\nMore text.")
    assert doc.title == "Fighting in Idlib."


def test_html_is_parsed_not_regexed():
    html = ("<html><head><title>Report</title><script>var x='<p>Homs</p>';</script></head>"
            "<body><p>Clashes in <b>Kassab</b></p><style>p{}</style></body></html>")
    doc = make_document(html, "page.html")
    assert doc.title == "Report"
    assert "Kassab" in doc.text and "Homs" not in doc.text and "p{}" not in doc.text


def test_folder_is_read_recursively_in_a_stable_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a.md").write_text("# One\nAleppo", encoding="utf-8")
    (tmp_path / "b" / "c.html").write_text("<html><body>Hama</body></html>", encoding="utf-8")
    (tmp_path / "b" / "image.png").write_bytes(b"\x89PNG\x00\x00")
    items = list(read_paths([tmp_path], LIMIT))
    assert [d.source.rsplit("/", 1)[-1] for d in items] == ["a.md", "c.html", "image.png"]
    assert items[-1] == Skipped(str(tmp_path / "b" / "image.png"), "unsupported file type .png")


@pytest.mark.parametrize("name,data,reason", [
    ("empty.txt", b"  \n", "empty"),
    ("binary.txt", b"abc\x00\x01\x02", "binary"),
    ("latin1.txt", "caf\u00e9".encode("latin-1"), "UTF-8"),
])
def test_bad_files_are_skipped_by_name_with_a_reason(tmp_path, name, data, reason):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text("Damascus", encoding="utf-8")
    items = list(read_paths([tmp_path], LIMIT))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert len(skipped) == 1 and skipped[0].source.endswith(name)
    assert reason in skipped[0].reason
    assert any(getattr(i, "text", None) == "Damascus" for i in items)


def test_missing_path_is_reported(tmp_path):
    (item,) = read_paths([tmp_path / "nope.txt"], LIMIT)
    assert isinstance(item, Skipped) and "no such file" in item.reason


def test_symlink_loop_does_not_recurse(tmp_path):
    (tmp_path / "doc.txt").write_text("Raqqa", encoding="utf-8")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    docs = list(read_paths([tmp_path], LIMIT))
    assert [d.text for d in docs] == ["Raqqa"]


def test_decode_errors_name_the_problem():
    with pytest.raises(UnreadableDocument, match="not valid UTF-8"):
        decode(b"\xff\xfe\xfa", "x", LIMIT)
    with pytest.raises(DocumentTooLarge):
        decode(b"a" * 11, "x", 10)
