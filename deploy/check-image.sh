#!/bin/sh
# Smoke test of a built servicebot image, without Telegram: the Bot API emulator that ships
# in the image plays Telegram, so the real bot's webhook is not touched.
#   docker build -f deploy/Dockerfile -t servicebot .
#   deploy/check-image.sh [IMAGE]                      # default servicebot:latest
# With DATABASE_URL set (exported), the bot migrates and uses that database: give it a
# scratch one, the test adds a citizen. Without it the bot uses SQLite inside the container.
# Needs docker and curl; uses the host network, ports BOT_PORT (18000) and EMU_PORT (18081).
set -eu
IMAGE=${1:-servicebot:latest}
BOT_PORT=${BOT_PORT:-18000}
EMU_PORT=${EMU_PORT:-18081}
BOT=servicebot-check-bot
EMU=servicebot-check-emulator
EMU_URL=http://127.0.0.1:$EMU_PORT/_emulator

cleanup() { docker rm -f "$BOT" "$EMU" >/dev/null 2>&1 || true; }
fail() {
    echo "FAIL: $*" >&2
    docker logs --tail 30 "$BOT" >&2 || true
    cleanup
    exit 1
}
cleanup

docker run -d --name "$EMU" --network host "$IMAGE" python -c "
import asyncio
from bot.emulator.server import EmulatorServer
async def main():
    async with EmulatorServer(port=$EMU_PORT):
        await asyncio.Event().wait()
asyncio.run(main())" >/dev/null

docker run -d --name "$BOT" --network host -e DATABASE_URL \
    -e TELEGRAM_BOT_TOKEN=123:TEST -e TELEGRAM_API_BASE_URL="http://127.0.0.1:$EMU_PORT/bot" \
    -e WEBHOOK_HOST=127.0.0.1 -e WEBHOOK_PORT="$BOT_PORT" \
    -e WEBHOOK_URL="http://127.0.0.1:$BOT_PORT" -e WEBHOOK_SECRET=check-image "$IMAGE" >/dev/null

echo "waiting for the container to be healthy (the first check is 15 s after start)..."
i=0
while :; do
    status=$(docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' "$BOT")
    case $status in
        "running healthy") break ;;
        running*) ;;
        *) fail "the bot stopped, exit status $(docker inspect -f '{{.State.ExitCode}}' "$BOT")" ;;
    esac
    i=$((i + 1))
    [ "$i" -le 40 ] || fail "not healthy after 80 s: $status"
    sleep 2
done
echo "ok: healthy, running as uid $(docker exec "$BOT" id -u)"
health=$(curl -fsS "http://127.0.0.1:$BOT_PORT/healthz") || fail "/healthz"
echo "ok: /healthz $health"
curl -fsS "http://127.0.0.1:$BOT_PORT/metrics" | grep -q '^servicebot_updates_received_total' \
    || fail "/metrics"
echo "ok: /metrics"

curl -fsS -X POST "$EMU_URL/users" -H 'content-type: application/json' \
    -d '{"id": 900001, "first_name": "Check", "language_code": "id"}' >/dev/null
curl -fsS -X POST "$EMU_URL/users/900001/messages" -H 'content-type: application/json' \
    -d '{"text": "/start"}' >/dev/null
curl -fsS "$EMU_URL/users/900001/messages?after=1&timeout=10" | grep -q '"kind":"bot"' \
    || fail "no answer to /start"
echo "ok: a citizen's /start was answered"

docker stop -t 40 "$BOT" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$BOT")
[ "$code" = 0 ] || fail "exit status $code after docker stop"
echo "ok: stopped cleanly on SIGTERM"
cleanup
echo "PASS: $IMAGE"
