// Renders /openapi.json as a readable page: one section per tag, one entry per operation, with
// its parameters, body and responses written as compact types.

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) if (v !== undefined && v !== null) el.setAttribute(k === "class" ? "class" : k, v);
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** A JSON schema as a short TypeScript-like type, indented. */
function typeOf(schema, components, depth = 0) {
  if (!schema) return "any";
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop();
    const target = components.schemas?.[name];
    return depth > 6 || !target ? name : typeOf(target, components, depth);
  }
  const pad = "  ".repeat(depth + 1);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf || schema.oneOf) return (schema.anyOf || schema.oneOf).map((s) => typeOf(s, components, depth)).join(" | ");
  if (schema.type === "array") return `${wrap(typeOf(schema.items, components, depth))}[]`;
  if (schema.type === "object" || schema.properties) {
    const props = Object.entries(schema.properties || {});
    if (props.length === 0) return "object";
    const required = new Set(schema.required || []);
    const lines = props.map(([k, v]) => `${pad}${k}${required.has(k) ? "" : "?"}: ${typeOf(v, components, depth + 1)}`);
    return `{\n${lines.join("\n")}\n${"  ".repeat(depth)}}`;
  }
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  const base = schema.type || "any";
  const notes = [
    schema.pattern && `pattern ${schema.pattern}`,
    schema.minimum !== undefined && `≥ ${schema.minimum}`,
    schema.maximum !== undefined && `≤ ${schema.maximum}`,
    schema.description,
  ].filter(Boolean);
  return notes.length ? `${base} /* ${notes.join(", ")} */` : base;
}
const wrap = (t) => (!t.startsWith("{") && t.includes(" | ") ? `(${t})` : t);

function contentBlock(content, components) {
  return Object.entries(content || {}).map(([media, m]) => h("div", {}, h("div", { class: "muted" }, media), h("pre", {}, typeOf(m.schema, components))));
}

function operation(path, method, op, components) {
  const params = (op.parameters || []).map((p) => {
    const param = p.$ref ? components.parameters[p.$ref.split("/").pop()] : p;
    return h(
      "tr",
      {},
      h("td", {}, h("code", {}, param.name)),
      h("td", {}, param.in),
      h("td", {}, param.required ? "required" : "optional"),
      h("td", {}, h("code", {}, typeOf(param.schema, components))),
      h("td", {}, param.description || ""),
    );
  });
  const isError = (r) => r.content && Object.values(r.content).some((m) => m.schema && m.schema.$ref === "#/components/schemas/Error");
  const responses = Object.entries(op.responses || {}).map(([status, r]) =>
    isError(r)
      ? h("p", {}, h("span", { class: "status" }, status), " ", r.description || "", h("span", { class: "muted" }, " — Error body"))
      : h("div", {}, h("p", {}, h("span", { class: "status" }, status), " ", r.description || ""), contentBlock(r.content, components)),
  );
  return h(
    "details",
    { class: "op", id: op.operationId },
    h(
      "summary",
      {},
      h("span", { class: `method m-${method}` }, method.toUpperCase()),
      h("code", {}, path),
      h("span", {}, op.summary || ""),
      op.security?.length ? h("span", { class: "lock" }, "token required") : null,
    ),
    h(
      "div",
      { class: "body" },
      op.description ? h("p", {}, op.description) : null,
      params.length ? [h("h3", {}, "Parameters"), h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {}, params)))] : null,
      op.requestBody ? [h("h3", {}, "Request body"), contentBlock(op.requestBody.content, components)] : null,
      h("h3", {}, "Responses"),
      responses,
    ),
  );
}

async function main() {
  const doc = await (await fetch("/openapi.json")).json();
  document.getElementById("title").textContent = `${doc.info.title} ${doc.info.version}`;
  document.getElementById("intro").textContent = doc.info.description || "";
  const components = doc.components || {};
  const byTag = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = op.tags?.[0] || "other";
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
      byTag.get(tag).ops.push(operation(path, method, op, components));
    }
  }
  if (components.schemas?.Error)
    document
      .getElementById("intro")
      .after(h("p", {}, "Every error answers with this body (", h("code", {}, "Error"), "):"), h("pre", {}, typeOf(components.schemas.Error, components)));
  const toc = document.getElementById("toc");
  const ops = document.getElementById("ops");
  for (const { tag, ops: list } of byTag.values()) {
    if (list.length === 0) continue;
    toc.append(h("li", {}, h("a", { href: `#tag-${tag.name}` }, tag.name)));
    ops.append(h("h2", { id: `tag-${tag.name}` }, tag.name), tag.description ? h("p", { class: "muted" }, tag.description) : null, ...list);
  }
}

main().catch((err) => {
  document.getElementById("intro").textContent = `Could not load /openapi.json: ${err.message}`;
});
