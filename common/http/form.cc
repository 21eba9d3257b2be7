#include "common/http/form.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/http/http_parse.h"

namespace dogsearch::http {
namespace {

// Splits "k=v; k2="v 2"" style parameters after the first ';'.
std::vector<std::pair<std::string, std::string>> Parameters(absl::string_view value) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = value.find(';');
  while (i != absl::string_view::npos && i < value.size()) {
    ++i;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    const size_t eq = value.find('=', i);
    if (eq == absl::string_view::npos) break;
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(value.substr(i, eq - i)));
    std::string v;
    size_t j = eq + 1;
    if (j < value.size() && value[j] == '"') {
      for (++j; j < value.size() && value[j] != '"'; ++j) {
        if (value[j] == '\\' && j + 1 < value.size()) ++j;
        v.push_back(value[j]);
      }
      i = value.find(';', j);
    } else {
      const size_t end = value.find(';', j);
      v = std::string(absl::StripAsciiWhitespace(value.substr(j, end - j)));
      i = end;
    }
    out.emplace_back(std::move(name), std::move(v));
  }
  return out;
}

absl::Status ParsePartHead(absl::string_view head, FormPart* part) {
  for (absl::string_view line : absl::StrSplit(head, "\r\n", absl::SkipEmpty())) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError("malformed header in a multipart body");
    }
    const std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (name == "content-disposition") {
      part->name = HeaderParameter(value, "name");
      part->filename = HeaderParameter(value, "filename");
    } else if (name == "content-type") {
      part->content_type = std::string(value);
    }
  }
  if (part->name.empty()) {
    return absl::InvalidArgumentError("a multipart part has no Content-Disposition name");
  }
  return absl::OkStatus();
}

absl::Status ParseMultipart(absl::string_view boundary, absl::string_view body, size_t max_parts,
                            std::vector<FormPart>* parts) {
  if (boundary.empty() || boundary.size() > 200) {
    return absl::InvalidArgumentError("multipart/form-data needs a boundary of 1-200 characters");
  }
  const std::string delimiter = absl::StrCat("--", boundary);
  size_t pos = body.find(delimiter);
  if (pos == absl::string_view::npos) {
    return absl::InvalidArgumentError("multipart body does not contain its boundary");
  }
  pos += delimiter.size();
  const std::string next = absl::StrCat("\r\n", delimiter);
  while (true) {
    if (body.substr(pos, 2) == "--") return absl::OkStatus();  // Closing delimiter.
    if (body.substr(pos, 2) != "\r\n") {
      return absl::InvalidArgumentError("malformed multipart delimiter line");
    }
    pos += 2;
    const size_t head_end = body.find("\r\n\r\n", pos);
    const size_t data_end = head_end == absl::string_view::npos ? absl::string_view::npos
                                                                : body.find(next, head_end + 4);
    if (data_end == absl::string_view::npos) {
      return absl::InvalidArgumentError("multipart body ends inside a part");
    }
    if (parts->size() >= max_parts) {
      return absl::OutOfRangeError(absl::StrCat("more than ", max_parts, " form parts"));
    }
    FormPart part;
    if (absl::Status s = ParsePartHead(body.substr(pos, head_end - pos), &part); !s.ok()) return s;
    part.data = body.substr(head_end + 4, data_end - head_end - 4);
    parts->push_back(std::move(part));
    pos = data_end + next.size();
  }
}

absl::Status ParseUrlEncoded(absl::string_view body, size_t max_parts,
                             std::vector<FormPart>* parts) {
  std::vector<std::pair<std::string, std::string>> fields;
  if (absl::Status s = ParseQueryString(body, &fields); !s.ok()) return s;
  if (fields.size() > max_parts) {
    return absl::OutOfRangeError(absl::StrCat("more than ", max_parts, " form fields"));
  }
  parts->reserve(fields.size());
  for (auto& [name, value] : fields) {
    FormPart& p = parts->emplace_back();
    p.name = std::move(name);
    p.storage = std::move(value);
  }
  for (FormPart& p : *parts) p.data = p.storage;  // After the vector stopped moving.
  return absl::OkStatus();
}

}  // namespace

std::string HeaderParameter(absl::string_view header_value, absl::string_view parameter) {
  for (auto& [name, value] : Parameters(header_value)) {
    if (absl::EqualsIgnoreCase(name, parameter)) return value;
  }
  return "";
}

absl::StatusOr<Form> Form::Parse(absl::string_view content_type, absl::string_view body,
                                 size_t max_parts) {
  Form form;
  const absl::string_view media =
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';')));
  if (absl::EqualsIgnoreCase(media, "multipart/form-data")) {
    absl::Status s =
        ParseMultipart(HeaderParameter(content_type, "boundary"), body, max_parts, &form.parts_);
    if (!s.ok()) return s;
  } else if (absl::EqualsIgnoreCase(media, "application/x-www-form-urlencoded")) {
    if (absl::Status s = ParseUrlEncoded(body, max_parts, &form.parts_); !s.ok()) return s;
  }
  return form;
}

const FormPart* Form::Find(absl::string_view name) const {
  for (const FormPart& p : parts_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string Form::Value(absl::string_view name) const {
  const FormPart* p = Find(name);
  return p == nullptr ? "" : std::string(p->data);
}

}  // namespace dogsearch::http
