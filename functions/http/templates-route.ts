import type { HttpResult } from "../service/events.ts";
import { bodyTooLarge } from "../service/failure.ts";
import { requestLimits } from "../service/service.ts";
import { parseJson } from "../core/input/index.ts";
import { TRANSFERABLE_OWNER } from "../service/owners.ts";
import { type PublishedTemplate, TemplateForbidden } from "../service/template-store.ts";
import { defaultPackageLimits } from "../packages/index.ts";
import { negotiate } from "./accept.ts";
import type { RequestContext } from "./context.ts";
import { bodyText } from "./body.ts";
import { callerOwner, isAdministrator } from "./job-owner.ts";
import { answerWithPdf } from "./render-route.ts";
import { json, notFound } from "./responses.ts";

/**
 * The templates: built-in ones and published template packages (functions/service/template-store.ts).
 *
 *   GET    /v1/templates               every template: built-in, and published with its versions
 *   GET    /v1/templates/{id}          one (`id` or `id@version`): its schema, and for a published one its versions
 *   GET    /v1/templates/{id}/example  an envelope that renders
 *   PUT    /v1/templates/{id}          publish a zipped package (application/zip) → 201 { id, version, … }
 *   DELETE /v1/templates/{id}          withdraw it from new renders
 *   PUT    /v1/admin/templates/{id}/owner   an administrator hands it to another owner
 *   POST   /v1/templates/check         check a zipped package without publishing it: its problems (422),
 *                                      or its example rendered (Accept: application/pdf) or described
 */

/** GET /v1/templates */
export async function listTemplates(ctx: RequestContext): Promise<HttpResult> {
  const { renderer, templates } = ctx.service;
  const builtIn = renderer.templates.ids().map((id) => {
    const template = renderer.templates.get(id);
    return { id, title: template.definition.title, builtIn: true, schema: template.schema, example: examplePath(id) };
  });
  const published = (await templates.list()).map((t) => ({ ...summary(t), example: examplePath(t.id) }));
  return json(200, { templates: [...builtIn, ...published] }, { "cache-control": "no-cache" });
}

/** GET /v1/templates/{name}: a built-in template, or a published one (`id` for its latest version, or `id@version`). */
export async function getTemplate(ctx: RequestContext, name: string): Promise<HttpResult> {
  const { renderer, templates } = ctx.service;
  if (renderer.templates.ids().includes(name)) {
    const template = renderer.templates.get(name);
    const { title } = template.definition;
    return json(200, { id: name, title, builtIn: true, schema: template.schema, example: examplePath(name) });
  }
  const [id = ""] = name.split("@");
  const index = await templates.get(id);
  if (!index) return notFound(`no template "${id}"`);
  const body = { ...summary(index), example: examplePath(name) };
  if (index.withdrawnAt) return json(200, body);
  const template = await renderer.templates.resolve(name);
  return json(200, { ...body, template: template.definition.id, schema: template.schema });
}

/** GET /v1/templates/{name}/example: an envelope that renders with it. */
export async function templateExample(ctx: RequestContext, name: string): Promise<HttpResult> {
  const { renderer } = ctx.service;
  if (renderer.templates.ids().includes(name)) return json(200, renderer.templates.get(name).example);
  // A published template's example.json is its data alone.
  const template = await renderer.templates.resolve(name);
  return json(200, { template: name, data: template.example });
}

/**
 * PUT /v1/templates/{id}: 201 for a new version, 200 when these files were published before; 403
 * when the template is another's (a new id becomes the caller's).
 */
export function putTemplate(ctx: RequestContext, id: string): Promise<HttpResult> {
  return asOwner(ctx, async () => {
    const published = await ctx.service.templates.publish(id, zipBody(ctx), callerOwner(ctx.event));
    const { template, version, created } = published;
    ctx.logFields.templateId = `${id}@${version.version}`;
    const location = `/v1/templates/${encodeURIComponent(id)}`;
    return json(
      created ? 201 : 200,
      {
        ...version,
        id,
        template: `${id}@${version.version}`,
        latest: template.latest,
        versions: template.versions.length,
      },
      { location },
    );
  });
}

/** DELETE /v1/templates/{id}: withdrawn from new renders (its versions stay on record); 403 when it is another's. */
export function deleteTemplate(ctx: RequestContext, id: string): Promise<HttpResult> {
  return asOwner(ctx, async () => {
    const withdrawn = await ctx.service.templates.withdraw(id, callerOwner(ctx.event));
    if (!withdrawn) return notFound(`no template "${id}"`);
    return json(200, summary(withdrawn));
  });
}

/**
 * PUT /v1/admin/templates/{id}/owner `{ "owner": "<owner id>" }`: an administrator hands a published
 * template to another owner (the owner id its new publisher reads at GET /v1/whoami) → 200
 * `{ id, owner, previousOwner }`. Anyone else: 403, whatever the template.
 */
export async function transferTemplate(ctx: RequestContext, id: string): Promise<HttpResult> {
  if (!isAdministrator(ctx.event)) {
    return forbidden(ctx, "only an administrator hands a template to another owner (their own permission on AWS)");
  }
  const owner = newOwner(parseJson(bodyText(ctx.event, ctx.service.config.maxBodyBytes)));
  if (owner === undefined) {
    const message =
      'the body is { "owner": "<owner id>" }: an owner id as GET /v1/whoami answers it (iam:<64 hex>, jwt:<64 hex>) or "local"';
    ctx.logFields.error = "invalid_owner";
    return json(422, { error: "invalid_owner", message, errors: [{ rule: "owner", path: "/owner", message }] });
  }
  const transferred = await ctx.service.templates.transfer(id, owner);
  if (!transferred) return notFound(`no template "${id}"`);
  ctx.logFields.templateId = id;
  ctx.log.info("template.transferred", { templateId: id, from: transferred.previousOwner, to: owner });
  return json(200, { id, owner, previousOwner: transferred.previousOwner });
}

/** `{ "owner": "<owner id>" }` → the owner id; undefined for any other body. */
function newOwner(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const { owner, ...rest } = body as { owner?: unknown };
  return typeof owner === "string" && TRANSFERABLE_OWNER.test(owner) && Object.keys(rest).length === 0
    ? owner
    : undefined;
}

/** What `route` answers, or 403 when the template it changes is another's. */
async function asOwner(ctx: RequestContext, route: () => Promise<HttpResult>): Promise<HttpResult> {
  try {
    return await route();
  } catch (e) {
    if (!(e instanceof TemplateForbidden)) throw e;
    return forbidden(ctx, e.message);
  }
}

function forbidden(ctx: RequestContext, message: string): HttpResult {
  ctx.logFields.error = "forbidden";
  return json(403, { error: "forbidden", message, errors: [] });
}

const CHECK_MODES = ["application/json", "application/pdf"] as const;

/**
 * POST /v1/templates/check: the package checked as publishing would, then its example rendered:
 * Accept application/pdf → the PDF; application/json → what it is and how many pages its example has.
 */
export async function checkTemplate(ctx: RequestContext): Promise<HttpResult> {
  const mode = negotiate(ctx.event.headers.accept, CHECK_MODES);
  if (!mode) return json(406, { error: "not_acceptable", message: `Accept ${CHECK_MODES.join(" or ")}`, errors: [] });
  // A caller who has gone stops the check too (its thread is ended).
  const pkg = await ctx.service.templates.check(zipBody(ctx), ctx.signal);
  const { id, title } = pkg.manifest;
  const version = pkg.digest.slice(0, 12);
  ctx.logFields.templateId = `${id}@${version}`;
  const result = await ctx.service.renderer.render(
    { template: id, data: pkg.example },
    { template: pkg.source, limits: requestLimits(ctx.service.config), signal: ctx.signal },
  );
  if (mode === "application/pdf") return answerWithPdf(ctx, { ...result, template: `${id}@${version}` }, mode);
  const headers = { "x-report-pages": String(result.pages), "x-report-template": `${id}@${version}` };
  return json(200, { id, title, version, digest: pkg.digest, pages: result.pages, warnings: result.warnings }, headers);
}

/** The request body's bytes (a zip), refused over the package limit before anything reads it. */
function zipBody(ctx: RequestContext): Uint8Array {
  const raw = ctx.event.body ?? "";
  const bytes = ctx.event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "latin1");
  const max = defaultPackageLimits.maxZipBytes;
  if (bytes.byteLength > max) throw bodyTooLarge(bytes.byteLength, max);
  return new Uint8Array(bytes);
}

function summary(t: PublishedTemplate) {
  return {
    id: t.id,
    title: t.title,
    ...(t.description ? { description: t.description } : {}),
    builtIn: false,
    latest: t.latest,
    ...(t.withdrawnAt ? { withdrawnAt: t.withdrawnAt } : {}),
    versions: t.versions,
  };
}

function examplePath(name: string): string {
  return `/v1/templates/${encodeURIComponent(name)}/example`;
}
