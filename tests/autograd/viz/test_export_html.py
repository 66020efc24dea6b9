"""export_html: one self-contained page to step through a backward pass, written whole or not at all,
and driven in a real browser (Debian's Chromium, headless, through Playwright's Python API)."""

import importlib.util
import os
import pathlib
import re
import shutil
import struct

import pytest

from autograd import export_html, trace_backward

CHROMIUM = "/usr/bin/chromium"
# As root in a closed network: no sandbox, no GPU, and none of Chromium's own connections.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


_spec = importlib.util.spec_from_file_location("viz_lecture", pathlib.Path(__file__).with_name("_lecture.py"))
_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_examples)


def lecture():
    """f = (x + y) z at x=-2, y=5, z=-4, not traced: export_html records the pass itself."""
    return _examples.lecture(traced=False)


def test_writes_one_self_contained_page_into_missing_folders(tmp_path, capsys):
    target = tmp_path / "course" / "week3" / "backprop.html"
    written = export_html(lecture(), target)
    assert written == str(target.resolve()) and f"wrote {written} (2 backward steps)" in capsys.readouterr().out
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 3 and page.count("<script>") == 1
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(http", page)  # nothing fetched
    assert {m for m in re.findall(r"https?://[^\s\"'<>]+", page)} <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # XML namespaces only
    assert 'document.addEventListener("keydown"' in page
    assert "Step 1 of 2: the * that made f passes on its gradient 1" in page
    assert sorted(p.name for p in target.parent.iterdir()) == ["backprop.html"]  # no temporary left


def test_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        export_html(lecture(), tmp_path / "a.htm")
        os.umask(0o027)
        export_html(lecture(), tmp_path / "b.HTML")
    finally:
        os.umask(old)
    assert (tmp_path / "a.htm").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.HTML").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("name", ["backprop.svg", "notes.txt", "backprop", "page.html.gz"])
def test_refuses_other_suffixes_naming_the_path_and_writing_nothing(tmp_path, name):
    target = tmp_path / "out" / name
    with pytest.raises(ValueError) as error:
        export_html(lecture(), target)
    assert repr(str(target)) in str(error.value) and ".html" in str(error.value)
    assert "nothing was written" in str(error.value) and not (tmp_path / "out").exists()


def test_refuses_a_folder_and_an_empty_name(tmp_path):
    with pytest.raises(IsADirectoryError, match=re.escape(repr(str(tmp_path)))):
        export_html(lecture(), tmp_path)
    with pytest.raises(ValueError, match="file name is empty"):
        export_html(lecture(), "")


def test_a_failed_write_keeps_the_old_page_and_names_the_users_path(tmp_path, monkeypatch):
    target = tmp_path / "backprop.html"
    target.write_text("old page")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError) as error:
        export_html(lecture(), target)
    assert repr(str(target)) in str(error.value) and ".tmp" not in str(error.value)
    assert target.read_text() == "old page" and [p.name for p in tmp_path.iterdir()] == ["backprop.html"]


def test_uses_the_last_trace_and_leaves_grad_alone(tmp_path):
    f = lecture()
    trace_backward(f, show=False)
    x = f.parents[0].parents[0]
    assert x.grad == -4.0
    export_html(f, tmp_path / "p.html")
    assert x.grad == -4.0


def _playwright():
    """Playwright's sync API and Debian's Chromium, or a skip saying which is missing."""
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.skip(f"Chromium is not installed ({CHROMIUM} missing): `make chromium` or "
                    "`sudo apt-get install chromium` enables the browser test")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright's Python package is missing: pip install -e '.[browser]' enables the browser test")
    return sync_playwright, CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


def test_the_page_steps_through_in_a_real_browser(tmp_path):
    sync_playwright, chromium = _playwright()
    page_path = export_html(lecture(), tmp_path / "backprop.html")
    shot = tmp_path / "step2.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto("file://" + page_path)

            def state():
                current = page.locator(".cr-steps li.current")
                return (current.count(), current.get_attribute("aria-current"), current.text_content(),
                        page.locator(".cr-caption").text_content(),
                        page.locator(".cr-frame:visible").get_attribute("data-step"),
                        page.locator(".cr-count").text_content())

            start = state()
            assert start[:3] == (1, "step", "0 start") and start[3].startswith("Before the backward pass")
            assert start[4:] == ("0", "step 0 of 2")
            page.click(".cr-next")
            after_next = state()
            assert after_next[:3] == (1, "step", "1 *") and after_next[3].startswith("Step 1 of 2: the * that made f")
            assert after_next[4:] == ("1", "step 1 of 2")
            # The highlighted node of the visible frame is the op of this step: f, lit in yellow.
            lit = page.locator(".cr-frame:visible g.node:has(polygon[fill='#fff2a8'])")
            assert lit.count() >= 1 and "f" in lit.first.text_content()
            page.keyboard.press("ArrowRight")
            after_key = state()
            assert after_key[2] == "2 +" and after_key[3].startswith("Step 2 of 2: the + that made q")
            assert after_key[4:] == ("2", "step 2 of 2") and "Final now: x, y." in after_key[3]
            assert page.locator(".cr-slider").input_value() == "2"
            page.keyboard.press("ArrowRight")  # already at the last step: stays there
            assert state()[4] == "2"
            page.keyboard.press("ArrowLeft")
            assert state()[4] == "1"
            page.screenshot(path=str(shot), full_page=True)
            assert errors == []
        finally:
            browser.close()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1000 and height > 200
