// Drive the system's headless Chromium against the bridge's page, like a person would:
// open the page, click "Start call", talk (Chromium's fake microphone plays a WAV), wait
// for the conversation, read the page's WebRTC stats, click "Hang up".
//
// Usage: node drive.mjs '{"url": "...", "wav": "...", "userDataDir": "...", ...}'
// Options: chromium (path), timeoutMs (for the conversation), holdMs (stay in the call
// this long after it connected, before waiting for turns), waitTurns (false: only connect).
// Prints one JSON object on stdout: what happened; progress goes to stderr.
import { chromium } from "playwright-core";

const options = {
  chromium: "/usr/bin/chromium",
  timeoutMs: 40000,
  holdMs: 0,
  waitTurns: true,
  ...JSON.parse(process.argv[2] || "{}"),
};
const log = (message) => process.stderr.write(`drive: ${message}\n`);
const result = { ok: false, turns: [], states: [], inboundAudioBytes: 0, error: "" };

// A fresh profile each run (the test gives a new directory): nothing carried over.
const browser = await chromium.launchPersistentContext(options.userDataDir, {
  executablePath: options.chromium,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${options.wav}`,
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
  ],
});
try {
  const page = browser.pages()[0] || (await browser.newPage());
  page.on("console", (message) => log(`page console: ${message.text()}`));
  page.on("pageerror", (error) => log(`page error: ${error}`));
  await page.goto(options.url);
  await page.getByRole("button", { name: "Start call" }).click();
  log("clicked Start call");
  await page.waitForFunction(
    () => window.voicebot.pc && window.voicebot.pc.connectionState === "connected",
    null,
    { timeout: 15000 },
  );
  result.states.push("connected");
  log("peer connection connected");
  if (options.holdMs > 0) {
    await page.waitForTimeout(options.holdMs);
  }
  if (options.waitTurns) {
    // The greeting is a bot turn too: wait for a bot turn that answers a user turn.
    await page.waitForFunction(
      () => {
        const answer = document.querySelector("[data-role=user] ~ [data-role=bot] .text");
        return answer && answer.textContent.trim().length > 0;
      },
      null,
      { timeout: options.timeoutMs },
    );
    log("got a user turn and a bot answer");
  }
  result.turns = await page.$$eval("[data-role]", (elements) =>
    elements.map((el) => ({
      role: el.dataset.role,
      text: el.querySelector(".text")?.textContent ?? el.textContent,
      latency: el.querySelector(".latency")?.textContent ?? null,
    })),
  );
  result.inboundAudioBytes = (await page.evaluate(() => window.voicebot.stats()))
    .inboundAudioBytes;
  await page.getByRole("button", { name: "Hang up" }).click();
  log("clicked Hang up");
  result.states.push(await page.textContent("#state"));
  result.ok = true;
} catch (error) {
  result.error = String(error);
  log(`failed: ${error}`);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
