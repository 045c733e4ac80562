"""Filing a complaint through the chat's flow, for tests outside tests/complaints that need a
complaint filed as a citizen files it (the flow's own checks are in tests/complaints)."""

from __future__ import annotations

from typing import Any


async def file_in_chat(
    citizen: Any, text: str, privacy: str, *, category: str = "Sikap petugas",
    service: str = "KTP Elektronik (KTP-el)",
) -> str:
    """Walk the flow from /pengaduan to the receipt; returns the receipt's text."""
    await citizen.send("/pengaduan")
    await citizen.reply()
    await citizen.click(category)
    await citizen.reply()
    await citizen.click(service)
    await citizen.reply()
    await citizen.send(text)
    await citizen.reply()
    await citizen.send("kemarin")
    await citizen.reply()
    await citizen.click("cf:ev:done")
    await citizen.reply()
    await citizen.click("cf:loc:skip")
    await citizen.reply()
    await citizen.click(f"cf:priv:{privacy}")
    await citizen.reply()
    await citizen.click("📨 Kirim pengaduan")
    receipt = await citizen.reply()
    assert "Pengaduan Anda sudah kami terima" in receipt.text, receipt.describe()
    return receipt.text
