import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport, closeRenderer, renderer } from "../../helpers/render.ts";
import { example } from "../../helpers/examples.ts";
import { startTrapServer, type TrapServer } from "../../helpers/trap-server.ts";
import { pageTexts, squash } from "../../helpers/pdf.ts";

// A server on loopback that counts every request: the renderer must never call it.
let trap: TrapServer;
let base = "";
beforeAll(async () => {
  trap = await startTrapServer();
  base = trap.base;
});
afterAll(async () => {
  await trap.close();
  await closeRenderer();
});

describe("the browser", () => {
  it("refuses every request but the bundled fonts, and runs no page script", async () => {
    // Markup a template could never produce from escaped text: this tests the fence itself.
    const doc = {
      lang: "en",
      title: "fence",
      css: `body { background: url(${base}/background.png) } .x { font-family: Remote } @font-face { font-family: Remote; src: url(https://fonts.example.com/f.woff2) }`,
      body: [
        `<p class="x">fence test</p>`,
        `<img src="${base}/image.png" onerror="document.body.textContent='SCRIPT RAN'">`,
        `<img src="https://example.com/remote.png">`,
        `<iframe src="${base}/frame.html"></iframe>`,
        `<iframe src="file:///etc/passwd"></iframe>`,
        `<link rel="stylesheet" href="${base}/style.css">`,
        `<object data="${base}/object.bin"></object>`,
      ].join("\n"),
    };
    const { result, refused } = await renderer.browsers.withDocument(doc, (page) => page.pdf());
    const text = squash((await pageTexts(result)).join(""));
    expect(text).toContain("fencetest");
    expect(text).not.toContain("SCRIPTRAN");
    expect(text).not.toContain("root:");
    expect(trap.hits()).toBe(0);
    expect(refused).toEqual(
      expect.arrayContaining([
        `${base}/background.png`,
        `${base}/image.png`,
        "https://example.com/remote.png",
        `${base}/frame.html`,
        `${base}/style.css`,
        "https://fonts.example.com/f.woff2",
      ]),
    );
  });

  it("runs page scripts only for a template that declares it needs them, behind the same fence", async () => {
    const doc = {
      lang: "en",
      title: "scripted",
      css: "",
      body: `<p id="out">static</p><script>document.getElementById("out").textContent = "SCRIPT " + (1 + 1);
        fetch("${base}/beacon").catch(() => {}); new Image().src = "https://example.com/pixel.png";</script>`,
    };
    const plain = await renderer.browsers.withDocument(doc, (page) => page.pdf());
    expect(squash((await pageTexts(plain.result)).join(""))).toBe("static");

    const scripted = await renderer.browsers.withDocument(doc, (page) => page.pdf(), { javascript: true });
    expect(squash((await pageTexts(scripted.result)).join(""))).toBe("SCRIPT2");
    expect(scripted.refused).toEqual(expect.arrayContaining([`${base}/beacon`, "https://example.com/pixel.png"]));
    expect(trap.hits()).toBe(0);
  });

  it("is launched again when it dies, and the next render succeeds", async () => {
    const first = await renderReport(example("gov-disclosure-2021-sample.json"));
    const pid = await renderer.browsers.processId();
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await renderReport(example("gov-disclosure-2021-sample.json"));
    expect(await renderer.browsers.processId()).not.toBe(pid);
    expect(second.sha256).toBe(first.sha256);
  });
});
