import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDocument, PasswordResponses, PermissionFlag } from "pdfjs-dist/legacy/build/pdf.mjs";
import { encryptPdf } from "../../../functions/core/secure/encrypt.ts";
import { PdfLayoutError, RawPdf, dictEntries, pdfTextString, ref } from "../../../functions/core/pdf/pdf-bytes.ts";
import type { EncryptOptions } from "../../../functions/core/types.ts";
import { renderReport, closeRenderer } from "../../helpers/render.ts";

afterAll(closeRenderer);

// Everything is read back with pdf.js (what browsers use): it opens an AES-256 file only with a
// password that unwraps the key, and reads strings and streams only if each was encrypted right.

const TITLE = "Quarterly figures, sealed";
const BODY = "The committee reviewed the figures and approved them unanimously.";

function envelope(encrypt?: EncryptOptions) {
  return {
    template: "report",
    data: {
      title: TITLE,
      lang: "en-GB",
      toc: true,
      blocks: [
        { type: "heading", level: 1, text: "Findings (first)" },
        { type: "paragraph", text: BODY },
        { type: "heading", level: 1, text: "Outlook" },
        { type: "paragraph", text: "Next quarter looks steady." },
      ],
    },
    options: { metadata: { author: "Finance office" }, ...(encrypt ? { pdf: { encrypt } } : {}) },
  };
}

async function open(pdf: Uint8Array, password?: string) {
  return getDocument({
    data: new Uint8Array(pdf),
    password,
    useSystemFonts: false,
    isEvalSupported: false,
    verbosity: 0,
  }).promise;
}

/** How pdf.js refuses to open it: the PasswordException's code, or "opened". */
async function refusal(pdf: Uint8Array, password?: string): Promise<number | "opened"> {
  try {
    await (await open(pdf, password)).destroy();
    return "opened";
  } catch (e) {
    expect((e as Error).name).toBe("PasswordException");
    return (e as { code: number }).code;
  }
}

/** Page texts, the info title and author, bookmark titles and permissions, as pdf.js reads them. */
async function read(pdf: Uint8Array, password?: string) {
  const doc = await open(pdf, password);
  try {
    const pages: string[] = [];
    for (let i = 1; i <= doc.numPages; i++) {
      const content = await (await doc.getPage(i)).getTextContent();
      pages.push(content.items.map((item) => ("str" in item ? item.str : "")).join(""));
    }
    const info = (await doc.getMetadata()).info as { Title?: string; Author?: string };
    const outline = ((await doc.getOutline()) ?? []).map((o) => o.title);
    const destinations = Object.keys((await doc.getDestinations()) ?? {});
    return { pages, info, outline, destinations, permissions: await doc.getPermissions() };
  } finally {
    await doc.destroy();
  }
}

const ALL = Object.values(PermissionFlag) as number[];
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const latin1 = (b: Uint8Array) => Buffer.from(b).toString("latin1");

let plain: Awaited<ReturnType<typeof renderReport>>;
let plainRead: Awaited<ReturnType<typeof read>>;
beforeAll(async () => {
  plain = await renderReport(envelope());
  plainRead = await read(plain.pdf);
});

describe("options.pdf.encrypt with both passwords and permissions withheld", () => {
  const options = { userPassword: "open sesame", ownerPassword: "owner-Ω-2026", permissions: { copy: false } };
  let result: Awaited<ReturnType<typeof renderReport>>;
  beforeAll(async () => {
    result = await renderReport(envelope(options));
  });

  it("does not open without a password, nor with a wrong one", async () => {
    expect(await refusal(result.pdf)).toBe(PasswordResponses.NEED_PASSWORD);
    expect(await refusal(result.pdf, "open sesame!")).toBe(PasswordResponses.INCORRECT_PASSWORD);
    expect(await refusal(result.pdf, "owner-Ω-2025")).toBe(PasswordResponses.INCORRECT_PASSWORD);
  });

  it("reads exactly as the unencrypted file with the user password, and with the owner password", async () => {
    expect(plainRead.pages.join("")).toContain(BODY);
    for (const password of [options.userPassword, options.ownerPassword]) {
      const got = await read(result.pdf, password);
      expect(got.pages).toEqual(plainRead.pages);
      expect(got.info).toMatchObject({ Title: TITLE, Author: "Finance office" });
      expect(got.outline).toEqual(["Findings (first)", "Outlook"]);
      expect(got.destinations.sort()).toEqual(plainRead.destinations.sort());
    }
  });

  it("withholds copying from the user password only, accessibility extraction always allowed", async () => {
    const user = (await read(result.pdf, options.userPassword)).permissions;
    expect(user?.sort()).toEqual(ALL.filter((f) => f !== PermissionFlag.COPY).sort());
    expect(user).toContain(PermissionFlag.COPY_FOR_ACCESSIBILITY);
  });

  it("leaves no string in clear and describes the encrypted file in sha256 and bytes", () => {
    const text = latin1(result.pdf);
    expect(latin1(plain.pdf)).toContain(pdfTextString(TITLE).slice(1, -1));
    expect(text).not.toContain(pdfTextString(TITLE).slice(1, -1));
    expect(text).not.toContain("Finance office");
    expect(text).not.toContain(options.userPassword);
    expect(text).not.toContain(Buffer.from(options.ownerPassword).toString("latin1"));
    expect(result.bytes).toBe(result.pdf.byteLength);
    expect(result.sha256).toBe(sha256(result.pdf));
    expect(result.pages).toBe(plain.pages);
  });

  it("declares AES-256 revision 6 in a new object, PDF 1.7 with Adobe's extension level 8", () => {
    const raw = new RawPdf(result.pdf, { allowEncrypted: true, allowHybrid: true });
    const encrypt = raw.dict(ref(raw.trailer, "Encrypt") as number);
    expect(dictEntries(encrypt).get("R")?.value).toBe("6");
    expect(encrypt).toContain("/CFM /AESV3");
    expect(latin1(result.pdf.subarray(0, 8))).toBe("%PDF-1.7");
    expect(raw.dict(raw.rootRef())).toContain("/ExtensionLevel 8");
    // The /ID is not encrypted (an encrypted string would be 64 hex digits or more).
    expect(dictEntries(raw.trailer).get("ID")?.value).toMatch(/^\[<[0-9A-F]{32}> <[0-9A-F]{32}>\]$/);
    expect(() => new RawPdf(result.pdf)).toThrow(PdfLayoutError);
  });

  it("has a random /ID (it is not encrypted: a hash of the content or the passwords would let a guess be confirmed)", async () => {
    const id = (pdf: Uint8Array) =>
      dictEntries(new RawPdf(pdf, { allowEncrypted: true, allowHybrid: true }).trailer).get("ID")?.value;
    const same = await renderReport(envelope(options));
    const plain = await renderReport(envelope(undefined));
    expect(id(same.pdf)).not.toBe(id(result.pdf));
    expect(id(plain.pdf)).not.toBe(id(result.pdf));
  });

  it("is not byte-identical between runs (random salts, key and IVs), and reads the same", async () => {
    const again = await renderReport(envelope(options));
    expect(again.sha256).not.toBe(result.sha256);
    expect((await read(again.pdf, options.userPassword)).pages).toEqual(plainRead.pages);
  });
});

describe("one password", () => {
  it("only a user password: the owner password is random, nobody else opens it, all permitted", async () => {
    const { pdf } = await renderReport(envelope({ userPassword: "just-me" }));
    expect(await refusal(pdf)).toBe(PasswordResponses.NEED_PASSWORD);
    expect(await refusal(pdf, "")).toBe(PasswordResponses.NEED_PASSWORD);
    const got = await read(pdf, "just-me");
    expect(got.pages).toEqual(plainRead.pages);
    expect(got.permissions?.sort()).toEqual([...ALL].sort());
  });

  it("only an owner password: opens without a password, the permissions enforced", async () => {
    const { pdf } = await renderReport(
      envelope({ ownerPassword: "admin", permissions: { print: false, modify: false, copy: false } }),
    );
    const got = await read(pdf);
    expect(got.pages).toEqual(plainRead.pages);
    expect(got.info.Title).toBe(TITLE);
    expect(got.permissions).toEqual([PermissionFlag.COPY_FOR_ACCESSIBILITY]);
    expect((await read(pdf, "admin")).pages).toEqual(plainRead.pages);
  });

  it("an empty user password with an owner password opens without one", async () => {
    const { pdf } = await renderReport(
      envelope({ userPassword: "", ownerPassword: "admin", permissions: { modify: false } }),
    );
    const got = await read(pdf);
    expect(got.pages).toEqual(plainRead.pages);
    expect(got.permissions).not.toContain(PermissionFlag.MODIFY_CONTENTS);
    expect(got.permissions).not.toContain(PermissionFlag.ASSEMBLE);
    expect(got.permissions).toContain(PermissionFlag.PRINT_HIGH_QUALITY);
  });
});

describe("passwords as a reader takes them: UTF-8 after SASLprep, the first 127 bytes", () => {
  it("takes a password outside the Basic Multilingual Plane", async () => {
    const password = "🔐𠀋密码ß"; // U+1F510 and U+2000B: four bytes each in UTF-8
    const { pdf } = await renderReport(envelope({ userPassword: password }));
    expect((await read(pdf, password)).pages).toEqual(plainRead.pages);
    expect(await refusal(pdf, "🔐𠀋密码")).toBe(PasswordResponses.INCORRECT_PASSWORD);
  });

  it("counts 127 bytes of UTF-8: what follows a 127-character CJK password's 42nd character is not part of it", async () => {
    const password = "密".repeat(127); // 381 bytes: the first 127 are 42 characters and one byte
    const { pdf } = await renderReport(envelope({ userPassword: password }));
    expect((await read(pdf, password)).pages).toEqual(plainRead.pages);
    expect(await refusal(pdf, `${"密".repeat(43)}x`)).toBe("opened");
    expect(await refusal(pdf, "密".repeat(42))).toBe(PasswordResponses.INCORRECT_PASSWORD);
  });

  it("maps as SASLprep does: compatibility forms (NFKC), a no-break space, a soft hyphen", async () => {
    const { pdf } = await renderReport(envelope({ userPassword: "Ⅸ\u00A0ﬁle\u00AD𝒜" }));
    // pdf.js hashes the UTF-8 it is given, so it opens with what SASLprep makes of it.
    expect((await read(pdf, "IX fileA")).pages).toEqual(plainRead.pages);
    expect(await refusal(pdf, "Ⅸ\u00A0ﬁle\u00AD𝒜")).toBe(PasswordResponses.INCORRECT_PASSWORD);
  });
});

describe("with the other options.pdf outputs", () => {
  it("encrypts the attached source too, which pdf.js reads back with the password, without the password", async () => {
    const encrypt = { userPassword: "attached-secret-5531" };
    const input = envelope(encrypt);
    const { pdf } = await renderReport({
      ...input,
      options: { ...input.options, pdf: { encrypt, attachSource: true } },
    });
    const doc = await open(pdf, encrypt.userPassword);
    try {
      const files = Object.values((await doc.getAttachments()) ?? {}) as { content: Uint8Array }[];
      expect(files).toHaveLength(1);
      const json = Buffer.from(files[0]?.content ?? []).toString("utf8");
      expect(JSON.parse(json)).toMatchObject({ template: "report", data: { title: TITLE } });
      expect(json).not.toContain(encrypt.userPassword);
    } finally {
      await doc.destroy();
    }
  });
});

describe("encryptPdf on its own", () => {
  it("encryptString makes strings the file's readers decrypt (as a signature added after needs)", async () => {
    const encrypted = encryptPdf(plain.pdf, { userPassword: "u" });
    const raw = new RawPdf(encrypted.pdf, { allowEncrypted: true, allowHybrid: true });
    const info = ref(raw.trailer, "Info") as number;
    const at = raw.bodyOffset(info);
    const title = dictEntries(raw.dict(info)).get("Title");
    if (!title) throw new Error("no /Title");
    const text = Buffer.from(pdfTextString("Added after").slice(5, -1), "hex");
    const value = encrypted.encryptString(Buffer.concat([Buffer.from([0xfe, 0xff]), text]));
    const edited = raw.splice([
      { at: at + title.at, end: at + title.end, text: `<${Buffer.from(value).toString("hex")}>` },
    ]);
    const got = await read(new Uint8Array(Buffer.from(edited, "latin1")), "u");
    expect(got.info.Title).toBe("Added after");
    expect(got.pages).toEqual(plainRead.pages);
  });

  it("refuses a file already encrypted, and one whose stream /Length is not a direct number", () => {
    const once = encryptPdf(plain.pdf, { userPassword: "u" }).pdf;
    expect(() => encryptPdf(once, { userPassword: "u" })).toThrow(/encrypted file/);
    const text = latin1(plain.pdf);
    const length = /\/Length (\d+)/.exec(text);
    if (!length?.[1]) throw new Error("no stream");
    const at = length.index + "/Length ".length;
    const broken = new RawPdf(plain.pdf, { allowHybrid: true }).splice([
      { at, end: at + length[1].length, text: "9 0 R" },
    ]);
    expect(() => encryptPdf(new Uint8Array(Buffer.from(broken, "latin1")), { userPassword: "u" })).toThrow(
      /no direct \/Length/,
    );
  });
});
