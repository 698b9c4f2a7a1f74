"""Read File, URL and API Request: components that bring outside data into a flow.

Every outbound request goes through the network guard (flowless.netguard), redirects included, so a
flow cannot reach the cloud metadata service or, unless the deployment allows it, private addresses.
httpx is imported only when a request is made: most flows never need it, and cold starts matter.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlencode, urljoin, urlsplit, urlunsplit

from flowless.engine.component import Component, Input, Output
from flowless.engine.types import Data, DataFrame, Message, text_of
from flowless.errors import FlowlessError
from flowless.netguard import BlockedAddressError

if TYPE_CHECKING:
    import httpx

__all__ = ["COMPONENTS", "APIRequest", "File", "URLComponent"]

# Files decoded as UTF-8 text; PDF and Word files are parsed (components/documents.py); images are not read.
TEXT_EXTENSIONS = (
    "txt", "md", "mdx", "csv", "tsv", "json", "jsonl", "yaml", "yml", "xml", "html", "htm", "py", "js", "ts",
    "tsx", "jsx", "sql", "sh", "log", "ini", "toml", "cfg", "conf", "rst", "css",
)
# A response body past this is refused: one Lambda holds every page of a crawl in memory at once.
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
# A crawl stops after this many pages, whatever the depth, so one run stays within Lambda's time limit.
MAX_CRAWL_PAGES = 50
# Pages of one crawl level fetched at the same time.
_CONCURRENCY = 8


def _truthy(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _table(value: Any) -> dict[str, Any]:
    """A key/value table field ([{"key": k, "value": v}, ...]), a dict, or a JSON object string, as a dict."""
    if isinstance(value, Data):
        value = value.data
    if isinstance(value, Message):
        value = value.text
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"Expected a JSON object, got {value[:100]!r}") from exc
    if isinstance(value, dict):
        return dict(value)
    out: dict[str, Any] = {}
    for row in _as_list(value):
        if isinstance(row, dict) and str(row.get("key") or "").strip():
            out[str(row["key"]).strip()] = row.get("value")
    return out


def _headers(value: Any) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in _table(value).items()}


def _with_scheme(url: str) -> str:
    # Langflow reads "example.com" as "https://example.com"; another scheme is left for the guard to refuse.
    return url if "://" in url else f"https://{url}"


def _refused(url: str, exc: BlockedAddressError) -> ValueError:
    return ValueError(f"Request to {url} refused: {exc}")


@dataclass
class _Response:
    url: str
    status_code: int
    headers: dict[str, str]
    content_type: str
    body: bytes
    encoding: str | None

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")


async def _send(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> _Response:
    """One request, its body read up to MAX_RESPONSE_BYTES (streamed, so a huge body is never held)."""
    async with client.stream(method, url, **kwargs) as response:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                raise ValueError(f"the response is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB")
        return _Response(
            url=str(response.url), status_code=response.status_code, headers=dict(response.headers),
            content_type=response.headers.get("content-type", "").split(";")[0].strip().lower(),
            body=bytes(body), encoding=response.charset_encoding,
        )


# ---- Read File ----------------------------------------------------------------------------------------


def _extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def _check_extension(name: str) -> None:
    from flowless.components.documents import DOCUMENT_EXTENSIONS

    if _extension(name) not in TEXT_EXTENSIONS + DOCUMENT_EXTENSIONS:
        raise ValueError(
            f"Unsupported file type: {name!r}. Supported types: {', '.join(TEXT_EXTENSIONS + DOCUMENT_EXTENSIONS)} "
            "(image files cannot be read here)"
        )


class File(Component):
    kind = "File"
    display_name = "Read File"
    description = "Loads content from one or more files."
    category = "data"
    icon = "file-text"
    inputs = (
        Input("path", "Files", type="file", value=[], is_list=True,
              info=f"Supported file extensions: {', '.join(TEXT_EXTENSIONS)}, pdf, docx"),
        Input("file_path", "Server File Path", type="other", value="", input_types=("Data", "Message"),
              is_list=True, advanced=True,
              info="Data with a 'file_path' property, or a Message with a path."),
        Input("separator", "Separator", value="\n\n", advanced=True),
        Input("silent_errors", "Silent Errors", type="bool", value=False, advanced=True,
              info="If true, errors do not raise an exception; the file is skipped."),
        Input("delete_server_file_after_processing", "Delete Server File After Processing", type="bool",
              value=True, advanced=True),
        Input("ignore_unsupported_extensions", "Ignore Unsupported Extensions", type="bool", value=True,
              advanced=True),
        Input("ignore_unspecified_files", "Ignore Unspecified Files", type="bool", value=False,
              advanced=True),
    )
    outputs = (
        Output("message", "load_files_message", ("Message",), "Raw Content"),
        Output("dataframe", "load_files_dataframe", ("DataFrame",), "Structured Content"),
        Output("data", "load_files_data", ("Data",), "Data"),
        Output("json", "load_files_json", ("Data",), "JSON"),
    )

    _rows: list[dict[str, Any]] | None = None

    def _paths(self) -> list[str]:
        """Paths from the `path` field (a tweak lands there), then from the `file_path` edge, each once."""
        found = [str(p).strip() for p in _as_list(self.params.get("path")) if str(p).strip()]
        for item in _as_list(self.params.get("file_path")):
            if isinstance(item, Data):
                value = item.data.get("file_path")
                if not value:
                    if _truthy(self.params.get("ignore_unspecified_files"), False):
                        continue
                    raise ValueError("Data object missing 'file_path' property.")
                found.extend(str(v) for v in _as_list(value))
            else:
                found.append(text_of(item).strip())
        return list(dict.fromkeys(p for p in found if p))

    async def _load(self) -> list[dict[str, Any]]:
        if self._rows is not None:
            return self._rows
        paths = self._paths()
        if not paths:
            raise ValueError("No files to process. Add a file to the component or pass a file path.")
        reader = self.ctx.services.files
        if reader is None:
            raise ValueError("Files are not available in this run")
        silent = _truthy(self.params.get("silent_errors"), False)
        rows: list[dict[str, Any]] = []
        for path in paths:
            try:
                rows.append(await self._read_one(reader, path))
            except (ValueError, FlowlessError) as exc:
                if silent:
                    continue
                # A missing or malformed file fails this component, as any other build error does.
                raise ValueError(str(exc)) from exc
        self._rows = rows
        return rows

    @staticmethod
    async def _read_one(reader: Any, path: str) -> dict[str, Any]:
        if "/" in path:
            # Refuse an unsupported type before downloading it; a bare v2 file id is checked once read.
            _check_extension(path.rpartition("/")[2])
        # The reader is blocking (S3); run it off the loop so other vertices of the layer keep going.
        name, content = await asyncio.to_thread(reader.read, path)
        _check_extension(name)
        from flowless.components.documents import DOCUMENT_EXTENSIONS, document_text

        if _extension(name) in DOCUMENT_EXTENSIONS:
            # Parsing is CPU work: off the loop too.
            return {"text": await asyncio.to_thread(document_text, name, content), "file_path": path}
        # utf-8-sig drops a byte-order mark; undecodable bytes become U+FFFD rather than failing the run.
        return {"text": content.decode("utf-8-sig", errors="replace"), "file_path": path}

    async def load_files_message(self) -> Message:
        rows = await self._load()
        separator = text_of(self.param("separator", "\n\n"))
        return Message(text=separator.join(r["text"] for r in rows), flow_id=self.ctx.flow_id)

    async def load_files_dataframe(self) -> DataFrame:
        return DataFrame(rows=[dict(r) for r in await self._load()])

    async def load_files_data(self) -> list[Data]:
        return [Data(data=dict(r)) for r in await self._load()]

    async def load_files_json(self) -> Data:
        rows = await self._load()
        if len(rows) == 1:
            return Data(data=dict(rows[0]))
        separator = text_of(self.param("separator", "\n\n"))
        return Data(data={"text": separator.join(r["text"] for r in rows),
                          "file_path": [r["file_path"] for r in rows]})


# ---- URL ----------------------------------------------------------------------------------------------

_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg"})
_BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
    "article", "header", "footer", "nav", "main", "aside", "pre", "blockquote", "hr", "dd", "dt", "form",
})


class _PageParser(HTMLParser):
    """Visible text, title, description, language and links of an HTML page (stdlib only)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.title = ""
        self.description = ""
        self.language = ""
        self.links: list[str] = []
        self._skipping: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.language = values.get("lang", "")
        elif tag == "title":
            self._in_title = True
        elif tag == "meta" and values.get("name", "").lower() == "description":
            self.description = values.get("content", "")
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag in _SKIPPED_TAGS:
            self._skipping.append(tag)
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skipping:
            # Line breaks in the source are plain spaces in a browser; only block elements break lines.
            self.chunks.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = (re.sub(r" +", " ", line).strip() for line in "".join(self.chunks).split("\n"))
        return "\n".join(line for line in lines if line)


def _parse_html(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class URLComponent(Component):
    kind = "URLComponent"
    aliases = ("URL",)
    display_name = "URL"
    description = "Fetch content from one or more web pages, following links recursively."
    category = "data"
    icon = "layout-template"
    inputs = (
        Input("urls", "URLs", value=[], is_list=True, input_types=("Message",),
              info="Enter one or more URLs to crawl recursively."),
        Input("max_depth", "Depth", type="slider", value=1,
              info="How many clicks away from each URL to go: 1 fetches only the given pages."),
        Input("prevent_outside", "Prevent Outside", type="bool", value=True, advanced=True,
              info="Follow only links on the same site as the page they start from."),
        Input("use_async", "Use Async", type="bool", value=True, advanced=True),
        Input("format", "Output Format", value="Text", options=("Text", "HTML"), advanced=True),
        Input("timeout", "Timeout", type="int", value=30, advanced=True),
        Input("headers", "Headers", type="table", value=[{"key": "User-Agent", "value": "langflow"}],
              advanced=True, input_types=("DataFrame",)),
        Input("filter_text_html", "Filter Text/HTML", type="bool", value=True, advanced=True,
              info="Skip linked pages that are not text or HTML."),
        Input("continue_on_failure", "Continue on Failure", type="bool", value=True, advanced=True),
        Input("check_response_status", "Check Response Status", type="bool", value=False, advanced=True),
        Input("autoset_encoding", "Autoset Encoding", type="bool", value=True, advanced=True),
    )
    outputs = (
        Output("page_results", "fetch_content", ("DataFrame",), "Extracted Pages"),
        Output("raw_results", "fetch_content_as_message", ("Message",), "Raw Content"),
    )

    _rows: list[dict[str, Any]] | None = None

    def _urls(self) -> list[str]:
        found: list[str] = []
        for item in _as_list(self.params.get("urls")):
            # One text may hold several URLs, separated by commas or whitespace.
            found.extend(u for u in re.split(r"[\s,]+", text_of(item)) if u)
        return list(dict.fromkeys(_with_scheme(u) for u in found))

    def _row(self, response: _Response, page: _PageParser | None) -> dict[str, Any]:
        html_format = str(self.param("format", "Text")).lower() == "html"
        text = response.text if html_format or page is None else page.text()
        return {
            "text": text, "url": response.url, "title": page.title.strip() if page else "",
            "description": page.description.strip() if page else "", "content_type": response.content_type,
            "language": (page.language if page else "") or response.headers.get("content-language", ""),
        }

    async def _crawl(self) -> list[dict[str, Any]]:
        if self._rows is not None:
            return self._rows
        roots = self._urls()
        if not roots:
            raise ValueError("No URLs provided.")
        from flowless.netguard import guarded_async_client

        depth_limit = max(1, _int(self.param("max_depth", 1), 1))
        keep_going = _truthy(self.params.get("continue_on_failure"), True)
        check_status = _truthy(self.params.get("check_response_status"), False)
        only_text = _truthy(self.params.get("filter_text_html"), True)
        same_site = _truthy(self.params.get("prevent_outside"), True)
        rows: list[dict[str, Any]] = []
        failures: list[str] = []
        seen: set[str] = set()
        # Breadth-first: (url, depth, origin of the URL the crawl started from).
        queue: deque[tuple[str, int, tuple[str, str]]] = deque()
        for url in roots:
            seen.add(url)
            queue.append((url, 1, _origin(url)))
        gate = asyncio.Semaphore(_CONCURRENCY)

        async with guarded_async_client(
            self.ctx.services.allow_private_network, timeout=float(_int(self.param("timeout", 30), 30)),
            follow_redirects=True, headers=_headers(self.param("headers")),
        ) as client:

            async def fetch(url: str) -> _Response | Exception:
                async with gate:
                    try:
                        response = await _send(client, "GET", url)
                    except BlockedAddressError as exc:
                        return _refused(url, exc)
                    except Exception as exc:  # every failure is reported per URL below
                        return ValueError(f"Error fetching {url}: {str(exc) or type(exc).__name__}")
                if check_status and response.status_code >= 400:
                    return ValueError(f"Error fetching {url}: HTTP status {response.status_code}")
                return response

            fetched = 0  # failed fetches count too, so a page full of dead links cannot stretch the run
            while queue and fetched < MAX_CRAWL_PAGES:
                batch = [queue.popleft() for _ in range(min(len(queue), MAX_CRAWL_PAGES - fetched))]
                fetched += len(batch)
                results = await asyncio.gather(*(fetch(url) for url, _, _ in batch))
                for (_url, depth, origin), result in zip(batch, results, strict=False):
                    if isinstance(result, Exception):
                        if not keep_going:
                            raise result
                        failures.append(str(result))
                        continue
                    is_html = result.content_type in ("text/html", "application/xhtml+xml") or (
                        not result.content_type and result.body.lstrip()[:1] == b"<")
                    is_text = is_html or _is_text(result.content_type)
                    if depth > 1 and only_text and not is_text:
                        continue  # a linked image or archive: not page content
                    page = _parse_html(result.text) if is_html else None
                    rows.append(self._row(result, page))
                    if page is None or depth >= depth_limit:
                        continue
                    for href in page.links:
                        link = urldefrag(urljoin(result.url, href.strip()))[0]
                        if urlsplit(link).scheme not in ("http", "https") or link in seen:
                            continue
                        if same_site and _origin(link) != origin:
                            continue
                        seen.add(link)
                        queue.append((link, depth + 1, origin))
        if not rows and failures:
            raise ValueError("Could not fetch any URL: " + "; ".join(failures))
        self._rows = rows
        return rows

    async def fetch_content(self) -> DataFrame:
        return DataFrame(rows=[dict(r) for r in await self._crawl()])

    async def fetch_content_as_message(self) -> Message:
        rows = await self._crawl()
        return Message(text="\n\n".join(r["text"] for r in rows), flow_id=self.ctx.flow_id)


# ---- API Request --------------------------------------------------------------------------------------

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _json_or_text(value: Any) -> Any:
    """A table cell as Langflow sends it: JSON when it parses ("1" -> 1, "[1]" -> [1]), else the text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _with_query(url: str, params: dict[str, str]) -> str:
    """The URL with `params` added to the query it already has (httpx's `params` would replace it)."""
    if not params:
        return url
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def _is_text(content_type: str) -> bool:
    return (not content_type or content_type.startswith("text/")
            or any(t in content_type for t in ("json", "xml", "javascript", "x-www-form-urlencoded")))


class APIRequest(Component):
    kind = "APIRequest"
    display_name = "API Request"
    description = "Make HTTP requests using URL or cURL commands."
    category = "data"
    icon = "Globe"
    inputs = (
        Input("url_input", "URL", value="", input_types=("Message",), info="Enter the URL for the request."),
        Input("curl_input", "cURL", value="", advanced=True, info="cURL mode is not supported here."),
        Input("method", "Method", value="GET", options=("GET", "POST", "PATCH", "PUT", "DELETE")),
        Input("mode", "Mode", value="URL", options=("URL", "cURL")),
        Input("query_params", "Query Parameters", type="other", value={}, input_types=("Data",),
              advanced=True),
        Input("body", "Body", type="table", value=[], input_types=("Data",), advanced=True,
              info="The body to send with POST, PATCH and PUT requests."),
        Input("headers", "Headers", type="table", value=[{"key": "User-Agent", "value": "Langflow/1.0"}],
              input_types=("Data",), advanced=True),
        Input("timeout", "Timeout", type="int", value=30, advanced=True),
        Input("follow_redirects", "Follow Redirects", type="bool", value=True, advanced=True),
        Input("save_to_file", "Save to File", type="bool", value=False, advanced=True),
        Input("include_httpx_metadata", "Include HTTPx Metadata", type="bool", value=False, advanced=True),
    )
    outputs = (Output("data", "make_api_request", ("Data",), "API Response"),)

    def _body(self) -> Any:
        value = self.params.get("body")
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value  # sent as it is, for APIs that take plain text
        table = _table(value)
        return {k: _json_or_text(v) for k, v in table.items()} if table else None

    async def make_api_request(self) -> Data:
        if str(self.param("mode", "URL")).strip().lower() == "curl":
            raise ValueError("cURL mode is not supported; use URL mode")
        if _truthy(self.params.get("save_to_file"), False):
            raise ValueError("Saving the response to a file is not supported; turn off 'Save to File'")
        url = text_of(self.params.get("url_input")).strip()
        if not url:
            raise ValueError("No URL provided")
        url = _with_scheme(url)
        method = str(self.param("method", "GET")).upper()
        if method not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            raise ValueError(f"Unsupported HTTP method: {method}")
        url = _with_query(url, {k: text_of(v) for k, v in _table(self.params.get("query_params")).items()})
        kwargs: dict[str, Any] = {}
        body = self._body() if method in _BODY_METHODS else None
        if isinstance(body, str):
            kwargs["content"] = body.encode()
        elif body is not None:
            kwargs["json"] = body
        import httpx

        from flowless.netguard import guarded_async_client

        try:
            async with guarded_async_client(
                self.ctx.services.allow_private_network, timeout=float(_int(self.param("timeout", 30), 30)),
                follow_redirects=_truthy(self.params.get("follow_redirects"), True),
                headers=_headers(self.param("headers")),
            ) as client:
                response = await _send(client, method, url, **kwargs)
        except BlockedAddressError as exc:
            raise _refused(url, exc) from exc
        except httpx.TimeoutException:
            # Langflow answers a failed request with Data carrying the error rather than failing the run.
            return Data(data={"source": url, "status_code": 500, "error": "Request timed out"})
        except httpx.HTTPError as exc:
            return Data(data={"source": url, "status_code": 500, "error": str(exc) or type(exc).__name__})
        result = self._result(response)
        if _truthy(self.params.get("include_httpx_metadata"), False):
            # Response headers only: the request's headers may carry credentials.
            result.update({"source": url, "status_code": response.status_code,
                           "response_headers": dict(response.headers)})
        return Data(data=result)

    @staticmethod
    def _result(response: _Response) -> dict[str, Any]:
        """The body, whatever the status (an error body is the API's answer too): JSON, text, or a note."""
        if not _is_text(response.content_type):
            return {"result": f"<binary content: {len(response.body)} bytes of {response.content_type}>"}
        text = response.text
        if "json" in response.content_type or text.lstrip()[:1] in ("{", "["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                return {"result": text}
            return parsed if isinstance(parsed, dict) else {"result": parsed}
        return {"result": text}


COMPONENTS: list[type[Component]] = [File, URLComponent, APIRequest]
