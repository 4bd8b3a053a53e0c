import type { TemplateSource } from "../core/template/index.ts";
import type { PackageCheck, PackageProblem, TemplatePackage } from "../packages/index.ts";
import { defaultPackageLimits, PACKAGE } from "../packages/index.ts";
import { recordedOwner } from "./owners.ts";
import { templateIndexKey, templateZipKey, TEMPLATES_PREFIX } from "./storage/keys.ts";
import type { Storage } from "./storage/s3.ts";

/**
 * Published template packages (functions/packages/), kept in S3 beside the uploads (the input
 * bucket: versioned, private) and rendered by name like the built-in templates:
 *
 *   templates/<id>/<version>.zip   the package's files zipped canonically (writeZip); a version is
 *                                  the first 12 hex digits of its files' SHA-256, so the same files
 *                                  make the same version and the same bytes, whatever zip brought them
 *   templates/<id>/index.json      its owner, its versions, the latest, and whether it was withdrawn
 *
 * A template belongs to whoever published it first (its `owner`, a caller's hashed identity): only
 * they publish new versions of it or withdraw it (TemplateForbidden otherwise), until an
 * administrator hands it to another (`transfer`).
 *
 * `"template": "<id>"` renders the latest version, `"<id>@<version>"` that one; a withdrawn template
 * renders no more (its files stay, for the record). The render core asks `resolve` for any name that
 * is not a built-in template; a version's source is read and checked once per process (and kept,
 * the 32 most recently used), an index at most once every few seconds.
 */
export interface TemplateStore {
  /** Check `zip` as a package (TemplateRefused with every problem otherwise). Nothing is stored. */
  check(zip: Uint8Array, signal?: AbortSignal): Promise<TemplatePackage>;
  /** Check and publish `zip` as template `id`, which becomes its latest version; `id` becomes `publisher`'s if it is new. */
  publish(id: string, zip: Uint8Array, publisher: string): Promise<Published>;
  /** Withdraw template `id` from new renders (`by` its owner only); undefined if it was never published. */
  withdraw(id: string, by: string): Promise<PublishedTemplate | undefined>;
  /** Hand template `id` to `owner` (an administrator's doing: the caller checks); undefined if it was never published. */
  transfer(id: string, owner: string): Promise<Transferred | undefined>;
  /** Template `id` as published (withdrawn ones too), or undefined. */
  get(id: string): Promise<PublishedTemplate | undefined>;
  /** Every template published and not withdrawn. */
  list(): Promise<PublishedTemplate[]>;
  /** The source of `id` (latest) or `id@version`, for the render core; undefined if none renders. */
  resolve(name: string): Promise<TemplateSource | undefined>;
}

export interface TemplateVersion {
  version: string;
  /** SHA-256 of the package's files (functions/packages check.ts). */
  digest: string;
  title: string;
  /**
   * Size of the zip stored for this version: its files zipped canonically, so the same for every zip
   * of the same files. (A version published before zips were stored canonically: the zip as sent.)
   */
  bytes: number;
  publishedAt: string;
}

/** templates/<id>/index.json: a client contract (GET /v1/templates/{id} answers it). */
export interface PublishedTemplate {
  id: string;
  title: string;
  description?: string;
  /**
   * Who may publish new versions and withdraw it: the first publisher (a caller's hashed identity, as
   * a job's owner), or whom an administrator handed it to. Absent from an index written before owners
   * were recorded: that template is LOCAL_OWNER's (so on AWS nobody's) until an administrator assigns
   * it. Never in an answer of the API.
   */
  owner?: string;
  /** The version `"template": "<id>"` renders. */
  latest: string;
  /** When it was withdrawn from new renders (absent while it renders). */
  withdrawnAt?: string;
  /** Oldest first. */
  versions: TemplateVersion[];
}

export interface Published {
  template: PublishedTemplate;
  version: TemplateVersion;
  /** False when these very files were published before (the version is not new). */
  created: boolean;
}

/** A package refused by its checks: every problem, by file, line and column. */
export class TemplateRefused extends Error {
  constructor(readonly problems: PackageProblem[]) {
    super(`the template package has ${problems.length} ${problems.length === 1 ? "problem" : "problems"}`);
    this.name = "TemplateRefused";
  }
}

/** Publishing under an id that is not the package's to take (a built-in template's). */
export class TemplateConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateConflict";
  }
}

/** What an administrator's transfer did. */
export interface Transferred {
  template: PublishedTemplate;
  /** Whose it was (LOCAL_OWNER for an index that recorded none). */
  previousOwner: string;
}

/**
 * Publishing or withdrawing a template that is another's. The message names no owner: an owner id
 * is a hash of someone's identity, and the caller needs only to know it is not theirs.
 */
export class TemplateForbidden extends Error {
  constructor(id: string, unowned: boolean) {
    const transfer = `an administrator can hand it over (PUT /v1/admin/templates/${id}/owner)`;
    super(
      unowned
        ? `template "${id}" was published before templates had owners and has none yet: only an administrator can assign it (PUT /v1/admin/templates/${id}/owner)`
        : `template "${id}" belongs to another publisher: only they may publish or withdraw it; ${transfer}`,
    );
    this.name = "TemplateForbidden";
  }
}

/** `<id>` or `<id>@<version>`: what an envelope's `template` names a published template by. */
const TEMPLATE_NAME = /^([a-z0-9][a-z0-9-]{1,62})(?:@([0-9a-f]{12}))?$/;

/** Digits of the digest that make a version. */
const VERSION_DIGITS = 12;
/** How long an index read is trusted: other instances see a new version or a withdrawal this late at most. */
const INDEX_TTL_MS = 5_000;
const SOURCES_KEPT = 32;
/** Index reads kept (names asked for that are no template are kept too, as such). */
const INDEXES_KEPT = 1_000;
/** Index writes that lost a race before giving up (each re-reads the index, after a short random wait). */
const INDEX_WRITE_TRIES = 10;

export interface TemplateStoreOptions {
  storage: Storage;
  /** Where packages are kept (the input bucket). */
  bucket: string;
  /** Ids of the built-in templates: nobody publishes over them. */
  builtIn: readonly string[];
  /** Reads and checks a zip as a package, behind the packages' fence (functions/packages/ createTemplateFence). */
  checkZip: (zip: Uint8Array, signal?: AbortSignal) => Promise<PackageCheck>;
  now?: () => Date;
}

export function createTemplateStore(options: TemplateStoreOptions): TemplateStore {
  const { storage, bucket, builtIn } = options;
  const now = options.now ?? (() => new Date());
  const { checkZip } = options;
  const indexes = new Map<string, { at: number; value: PublishedTemplate | undefined; eTag?: string }>();
  const sources = new Map<string, Promise<TemplateSource>>();

  async function readIndex(id: string, fresh = false): Promise<{ value?: PublishedTemplate; eTag?: string }> {
    const cached = indexes.get(id);
    if (!fresh && cached && performance.now() - cached.at < INDEX_TTL_MS) return cached;
    const key = templateIndexKey(id);
    const got = await storage.get(bucket, key);
    const read =
      got.found && "body" in got
        ? { value: JSON.parse(got.body.toString("utf8")) as PublishedTemplate, eTag: got.eTag }
        : { value: undefined };
    indexes.delete(id);
    indexes.set(id, { at: performance.now(), ...read });
    for (const old of indexes.keys()) {
      if (indexes.size <= INDEXES_KEPT) break;
      indexes.delete(old);
    }
    return read;
  }

  /** Change the index of `id` with `change` (given the current one), as a conditional write that retries on a race. */
  async function updateIndex(
    id: string,
    change: (current: PublishedTemplate | undefined) => PublishedTemplate | undefined,
  ): Promise<PublishedTemplate | undefined> {
    for (let attempt = 0; attempt < INDEX_WRITE_TRIES; attempt++) {
      const { value, eTag } = await readIndex(id, true);
      const next = change(value);
      if (!next) return undefined;
      const written = await storage.putJson(
        bucket,
        templateIndexKey(id),
        JSON.stringify(next, null, 2),
        eTag ? { ifMatch: eTag } : { ifNoneMatch: "*" },
      );
      if (written !== undefined) {
        indexes.set(id, { at: performance.now(), value: next, eTag: written });
        return next;
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80 * (attempt + 1)));
    }
    throw new TemplateConflict(`template ${id} is being published by others at this moment: try again`);
  }

  async function check(zip: Uint8Array, signal?: AbortSignal): Promise<TemplatePackage> {
    const checked = await checkZip(zip, signal);
    if (!checked.ok) throw new TemplateRefused(checked.problems);
    return checked.package;
  }

  async function loadSource(id: string, version: string): Promise<TemplateSource> {
    const got = await storage.get(bucket, templateZipKey(id, version));
    if (!got.found || !("body" in got)) throw new Error(`template ${id}@${version}: its package is missing from S3`);
    const checked = await checkZip(got.body);
    // Published before a check this service has now (a rule added since): the package's to mend, not
    // the service's fault. Its problems are listed, as publishing it today would list them.
    if (!checked.ok) {
      const notice = {
        file: PACKAGE,
        rule: "republish",
        message: `template ${id}@${version} was published before checks it does not pass: mend it and publish it again`,
      };
      throw new TemplateRefused([notice, ...checked.problems]);
    }
    const recorded = (await readIndex(id)).value?.versions.find((v) => v.version === version);
    if (recorded && recorded.digest !== checked.package.digest) {
      throw new Error(`template ${id}@${version}: its package is not the one published (another digest)`);
    }
    const { source } = checked.package;
    // Kept and reported by its exact version (RenderResult.template).
    return { ...source, definition: { ...source.definition, id: `${id}@${version}` } };
  }

  return {
    check,

    async publish(id, zip, publisher) {
      if (builtIn.includes(id)) throw new TemplateConflict(`"${id}" is a built-in template: publish under another id`);
      // Another's template is refused before its package is even looked at.
      if (isTemplateId(id)) mayChange(id, (await readIndex(id, true)).value, publisher);
      const pkg = await check(zip);
      if (pkg.manifest.id !== id) {
        throw new TemplateRefused([
          {
            file: "template.json",
            rule: "id",
            message: `the package's id is "${pkg.manifest.id}", but it is published as "${id}": they must be the same`,
          },
        ]);
      }
      const versionId = pkg.digest.slice(0, VERSION_DIGITS);
      // Versions are immutable: a different package whose digest starts the same is refused, and the
      // zip of a version already there is not written again.
      const known = (await readIndex(id, true)).value?.versions.find((v) => v.version === versionId);
      if (known && known.digest !== pkg.digest) {
        throw new TemplateConflict(`version ${versionId} of "${id}" is another package: change it and publish again`);
      }
      // The zip first: an index never names a version whose package is not there.
      let bytes = known?.bytes ?? 0;
      if (!known) {
        const stored = storedZip(pkg);
        bytes = stored.byteLength;
        await storage.put(bucket, templateZipKey(id, versionId), stored, { contentType: "application/zip" });
      }
      const version: TemplateVersion = {
        version: versionId,
        digest: pkg.digest,
        title: pkg.manifest.title,
        bytes,
        publishedAt: now().toISOString(),
      };
      let created = true;
      let recorded = version;
      const template = await updateIndex(id, (current) => {
        // Asked again on the index written over: of two first publishers at once, one is first.
        mayChange(id, current, publisher);
        const known = current?.versions.find((v) => v.version === version.version);
        created = known === undefined;
        recorded = known ?? version;
        const { withdrawnAt: _withdrawn, ...rest } = current ?? { versions: [] };
        return {
          ...rest,
          id,
          owner: current ? recordedOwner(current.owner) : publisher,
          title: pkg.manifest.title,
          ...(pkg.manifest.description ? { description: pkg.manifest.description } : {}),
          latest: version.version,
          versions: known ? rest.versions : [...rest.versions, version],
        };
      });
      return { template: template as PublishedTemplate, version: recorded, created };
    },

    async withdraw(id, by) {
      if (builtIn.includes(id)) throw new TemplateConflict(`"${id}" is a built-in template: it cannot be withdrawn`);
      if (!isTemplateId(id)) return undefined;
      return updateIndex(id, (current) => {
        if (!current) return undefined;
        mayChange(id, current, by);
        return { ...current, withdrawnAt: now().toISOString() };
      });
    },

    async transfer(id, owner) {
      if (builtIn.includes(id)) throw new TemplateConflict(`"${id}" is a built-in template: nobody owns it`);
      if (!isTemplateId(id)) return undefined;
      let previousOwner = recordedOwner(undefined);
      const template = await updateIndex(id, (current) => {
        if (!current) return undefined;
        previousOwner = recordedOwner(current.owner);
        return { ...current, owner };
      });
      return template && { template, previousOwner };
    },

    async get(id) {
      if (!isTemplateId(id)) return undefined;
      return (await readIndex(id, true)).value;
    },

    async list() {
      const keys = (await storage.list(bucket, TEMPLATES_PREFIX))
        .map((o) => o.key)
        .filter((k) => k.endsWith("/index.json"));
      const found = await Promise.all(
        keys.map((key) => readIndex(key.slice(TEMPLATES_PREFIX.length, -"/index.json".length), true)),
      );
      return found
        .flatMap((f) => (f.value && !f.value.withdrawnAt ? [f.value] : []))
        .sort((a, b) => a.id.localeCompare(b.id));
    },

    async resolve(name) {
      const match = TEMPLATE_NAME.exec(name);
      if (!match) return undefined;
      const id = match[1] as string;
      const { value: index } = await readIndex(id);
      if (!index || index.withdrawnAt) return undefined;
      const version = match[2] ?? index.latest;
      if (!index.versions.some((v) => v.version === version)) return undefined;
      const key = `${id}@${version}`;
      let source = sources.get(key);
      if (source) sources.delete(key);
      else source = loadSource(id, version);
      sources.set(key, source);
      source.catch(() => sources.delete(key));
      for (const old of sources.keys()) {
        if (sources.size <= SOURCES_KEPT) break;
        sources.delete(old);
      }
      return source;
    },
  };
}

/** A template's id (no version): what index.json files are kept under. */
function isTemplateId(id: string): boolean {
  return TEMPLATE_NAME.test(id) && !id.includes("@");
}

/** Refuses `caller` a change to a template that exists and is another's (an index that records no owner is LOCAL_OWNER's). */
function mayChange(id: string, index: PublishedTemplate | undefined, caller: string): void {
  if (index && recordedOwner(index.owner) !== caller) throw new TemplateForbidden(id, index.owner === undefined);
}

/**
 * What a version is stored as: the package's files as the checks read them (no wrapping folder, no
 * __MACOSX/ or .DS_Store), zipped canonically by the check, so that its bytes follow from its version
 * whatever zip brought them.
 */
function storedZip(pkg: TemplatePackage): Uint8Array {
  const { zip } = pkg;
  const max = defaultPackageLimits.maxZipBytes;
  if (zip.byteLength > max) {
    const message = `zipped as it is stored (every file deflated unless stored is smaller), the package has ${zip.byteLength} bytes; the limit is ${max}: make its files smaller`;
    throw new TemplateRefused([{ file: PACKAGE, rule: "stored-zip-too-large", message }]);
  }
  return zip;
}
