"""Parser, Data to Message, Type Convert, Combine Text and Split Text."""

from __future__ import annotations

import codecs
import json
from typing import Any

from flowless.components._text import markdown_table
from flowless.engine.component import Component, Input, Output
from flowless.engine.types import Data, DataFrame, Message, text_of
from flowless.errors import InvalidFlowError

__all__ = ["CombineText", "ParseData", "ParserComponent", "SplitText", "TypeConverterComponent", "as_dataframe"]


def as_data(value: Any) -> Data:
    if isinstance(value, Data):
        return value
    if isinstance(value, Message):
        return Data(data={"text": value.text, "sender": value.sender, "sender_name": value.sender_name,
                          "session_id": value.session_id, "timestamp": value.timestamp})
    if isinstance(value, DataFrame):
        return Data(data={"results": value.rows})
    if isinstance(value, dict):
        return Data(data=value)
    return Data(data={"text": text_of(value)})


def as_dataframe(value: Any) -> DataFrame:
    if isinstance(value, DataFrame):
        return value
    if isinstance(value, list):
        rows: list[dict[str, Any]] = []
        for item in value:
            rows.extend(as_dataframe(item).rows)
        return DataFrame(rows=rows)
    if isinstance(value, Data):
        return DataFrame(rows=[dict(value.data)])
    if value is None:
        return DataFrame()
    return DataFrame(rows=[dict(as_data(value).data)])


def _format(pattern: str, row: dict[str, Any], where: str) -> str:
    try:
        return pattern.format(**{k: ("" if v is None else v) for k, v in row.items()})
    except KeyError as exc:
        raise InvalidFlowError(f"{where}: the pattern uses {exc} but the data has only {sorted(row)}") from exc


class ParserComponent(Component):
    kind = "ParserComponent"
    aliases = ("parser",)
    display_name = "Parser"
    description = "Extracts text using a template."
    category = "processing"
    icon = "braces"
    inputs = (
        Input("input_data", "Data or DataFrame", type="other", input_types=("DataFrame", "Data"), required=True),
        Input("mode", "Mode", value="Parser", options=("Parser", "Stringify")),
        Input("pattern", "Template", value="Text: {text}"),
        Input("sep", "Separator", value="\n", advanced=True),
    )
    outputs = (Output("parsed_text", "parse_combined_text", ("Message",), "Parsed Text"),)

    def parse_combined_text(self) -> Message:
        value = self.params.get("input_data")
        sep = self.param("sep", "\n")
        if self.param("mode", "Parser") == "Stringify":
            if isinstance(value, DataFrame):
                text = markdown_table(value)
            elif isinstance(value, Data):
                text = json.dumps(value.data, ensure_ascii=False, default=str)
            else:
                text = text_of(value)
            return Message(text=text, flow_id=self.ctx.flow_id)
        if isinstance(value, list):
            raise InvalidFlowError(f"{self.vertex.display_name}: a list of Data is not supported; use a DataFrame")
        pattern = text_of(self.param("pattern", "Text: {text}"))
        if isinstance(value, DataFrame):
            text = sep.join(_format(pattern, row, self.vertex.display_name) for row in value.rows)
        else:
            text = _format(pattern, as_data(value).data, self.vertex.display_name)
        return Message(text=text, flow_id=self.ctx.flow_id)


class ParseData(Component):
    kind = "ParseData"
    display_name = "Data to Message"
    description = "Convert Data objects into Messages using any {field_name} from input data."
    category = "processing"
    icon = "message-square"
    inputs = (
        Input("data", "Data", type="other", input_types=("Data",), is_list=True, required=True),
        Input("template", "Template", value="{text}"),
        Input("sep", "Separator", value="\n", advanced=True),
    )
    outputs = (
        Output("text", "parse_data", ("Message",), "Message"),
        Output("data_list", "parse_data_as_list", ("Data",), "Data List"),
    )

    def _items(self) -> list[Data]:
        value = self.params.get("data")
        items = value if isinstance(value, list) else [value]
        return [as_data(v) for v in items if v is not None]

    def parse_data(self) -> Message:
        template = text_of(self.param("template", "{text}"))
        texts = [_format(template, d.data, self.vertex.display_name) for d in self._items()]
        return Message(text=self.param("sep", "\n").join(texts), flow_id=self.ctx.flow_id)

    def parse_data_as_list(self) -> list[Data]:
        template = text_of(self.param("template", "{text}"))
        return [Data(data={**d.data, "text": _format(template, d.data, self.vertex.display_name)})
                for d in self._items()]


class TypeConverterComponent(Component):
    kind = "TypeConverterComponent"
    display_name = "Type Convert"
    description = "Convert between Message, Data and DataFrame."
    category = "processing"
    icon = "repeat"
    inputs = (
        Input("input_data", "Input", type="other", input_types=("Message", "Data", "DataFrame"), required=True),
        Input("output_type", "Output Type", value="Message", options=("Message", "Data", "DataFrame")),
    )
    outputs = (
        Output("message_output", "convert_to_message", ("Message",), "Message Output"),
        Output("data_output", "convert_to_data", ("Data",), "Data Output"),
        Output("dataframe_output", "convert_to_dataframe", ("DataFrame",), "DataFrame Output"),
    )

    def convert_to_message(self) -> Message:
        value = self.params.get("input_data")
        if isinstance(value, DataFrame):
            return Message(text=markdown_table(value), flow_id=self.ctx.flow_id)
        if isinstance(value, Data):
            return Message(text=value.get_text() or json.dumps(value.data, ensure_ascii=False, default=str))
        return Message(text=text_of(value), flow_id=self.ctx.flow_id)

    def convert_to_data(self) -> Data:
        value = self.params.get("input_data")
        # A Message converts to its text alone, as Langflow's converter does.
        if isinstance(value, Message):
            return Data(data={"text": value.text})
        return as_data(value)

    def convert_to_dataframe(self) -> DataFrame:
        value = self.params.get("input_data")
        if isinstance(value, Message):
            return DataFrame(rows=[{"text": value.text}])
        return as_dataframe(value)


class CombineText(Component):
    kind = "CombineText"
    display_name = "Combine Text"
    description = "Concatenate two text sources into a single text chunk using a specified delimiter."
    category = "processing"
    icon = "merge"
    inputs = (
        Input("text1", "First Text", input_types=("Message",)),
        Input("text2", "Second Text", input_types=("Message",)),
        Input("delimiter", "Delimiter", value=" "),
    )
    outputs = (Output("combined_text", "combine_texts", ("Message",), "Combined Text"),)

    def combine_texts(self) -> Message:
        delimiter = self.params.get("delimiter")
        delimiter = " " if delimiter is None else text_of(delimiter)
        return Message(text=delimiter.join([text_of(self.params.get("text1")), text_of(self.params.get("text2"))]),
                       flow_id=self.ctx.flow_id)


def _unescape(separator: str) -> str:
    separator = separator.replace("/n", "\n").replace("/t", "\t")
    try:
        return codecs.decode(separator, "unicode_escape")
    except UnicodeDecodeError:
        return separator


def split_text(text: str, *, separator: str, chunk_size: int, chunk_overlap: int, keep: str = "False") -> list[str]:
    """Split on `separator`, then merge pieces into chunks of at most `chunk_size` characters that
    overlap by up to `chunk_overlap` characters (the rule of a character text splitter)."""
    if separator:
        raw = text.split(separator)
        if keep in ("True", "End"):
            pieces = [p + separator for p in raw[:-1]] + [raw[-1]]
        elif keep == "Start":
            pieces = [raw[0]] + [separator + p for p in raw[1:]]
        else:
            pieces = raw
    else:
        pieces = list(text)
    pieces = [p for p in pieces if p != ""]
    joiner = "" if keep != "False" else separator
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for piece in pieces:
        extra = len(piece) + (len(joiner) if current else 0)
        if current and length + extra > chunk_size:
            chunks.append(joiner.join(current).strip())
            # Keep a tail of the previous chunk as overlap.
            while current and (length > chunk_overlap or length + len(piece) + len(joiner) > chunk_size):
                length -= len(current[0]) + (len(joiner) if len(current) > 1 else 0)
                current.pop(0)
        current.append(piece)
        length = sum(len(p) for p in current) + len(joiner) * (len(current) - 1)
    if current:
        chunks.append(joiner.join(current).strip())
    return [c for c in chunks if c]


class SplitText(Component):
    kind = "SplitText"
    display_name = "Split Text"
    description = "Split text into chunks based on specified criteria."
    category = "processing"
    icon = "scissors-line-dashed"
    inputs = (
        Input("data_inputs", "Input", type="other", input_types=("Data", "DataFrame", "Message"), required=True),
        Input("chunk_overlap", "Chunk Overlap", type="int", value=200),
        Input("chunk_size", "Chunk Size", type="int", value=1000),
        Input("separator", "Separator", value="\n"),
        Input("text_key", "Text Key", value="text", advanced=True),
        Input("keep_separator", "Keep Separator", value="False", options=("False", "True", "Start", "End")),
    )
    outputs = (Output("dataframe", "split_text", ("DataFrame",), "Chunks"),)

    def split_text(self) -> DataFrame:
        value = self.params.get("data_inputs")
        items = value if isinstance(value, list) else [value]
        key = self.param("text_key", "text")
        rows: list[dict[str, Any]] = []
        size, overlap = int(self.param("chunk_size", 1000)), int(self.param("chunk_overlap", 200))
        separator = _unescape(text_of(self.param("separator", "\n")))
        for item in items:
            if isinstance(item, DataFrame):
                sources = [Data(data=row, text_key=key) for row in item.rows]
            elif isinstance(item, Message):
                sources = [Data(data={key: item.text}, text_key=key)]
            else:
                sources = [as_data(item)]
            for source in sources:
                text = text_of(source.data.get(key, ""))
                metadata = {k: v for k, v in source.data.items() if k != key}
                for chunk in split_text(text, separator=separator, chunk_size=size, chunk_overlap=overlap,
                                        keep=str(self.param("keep_separator", "False"))):
                    rows.append({key: chunk, **metadata})
        return DataFrame(rows=rows)
