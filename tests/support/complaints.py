"""Filing a complaint through the chat's flow, for tests outside tests/complaints that need a
complaint filed as a citizen files it (the flow's own checks are in tests/complaints)."""

from __future__ import annotations

from typing import Any


async def file_in_chat(
    citizen: Any, text: str, privacy: str, *, category: str = "Sikap petugas",
    service: str = "KTP Elektronik (KTP-el)",
) -> str:
    """Walk the flow from /pengaduan to the receipt, answering each step the flow asks (it
    skips what the description already says); returns the receipt's text."""
    await citizen.send("/pengaduan")
    await citizen.reply()
    await citizen.click(category)
    await citizen.reply()
    await citizen.send(text)
    asked = await citizen.reply()
    for _step in range(8):
        data = [d for _label, d in asked.buttons]
        if "cf:ok" in data:
            await citizen.click("📨 Kirim pengaduan")
            receipt = await citizen.reply()
            assert "Pengaduan Anda sudah kami terima" in receipt.text, receipt.describe()
            return receipt.text
        if any(d.startswith("cf:svc:") for d in data):
            await citizen.click(service)
        elif "cf:when:yest" in data:
            await citizen.click("cf:when:yest")
        elif "cf:ev:done" in data:
            await citizen.click("cf:ev:done")
        elif f"cf:priv:{privacy}" in data:
            await citizen.click(f"cf:priv:{privacy}")
        elif asked.keyboard:  # the place: a reply keyboard with the location button
            await citizen.send("loket 3")
            await citizen.reply()  # "place noted", taking the keyboard away; then the next step
        else:
            raise AssertionError(f"an unexpected step: {asked.describe()}")
        asked = await citizen.reply()
    raise AssertionError("the complaint flow did not end")
