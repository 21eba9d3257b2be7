#include "services/gateway/http_api.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/proto_json.h"
#include "common/http/form.h"
#include "common/http/http_server.h"
#include "common/image_header/image_header.h"
#include "common/metrics/http_route_metrics.h"

namespace dogsearch::gateway {
namespace {

using http::Form;
using http::HttpRequest;
using http::HttpResponse;
using K = rpc::RpcKind;

constexpr char kPageCsp[] =
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";
constexpr uint64_t kFormOverhead = 64 << 10;  // Multipart headers and the small fields.

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 412;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kCancelled:
      return 499;
    default:
      return 500;
  }
}

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += absl::StrCat("\\u00", absl::Hex(u, absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

HttpResponse ErrorResponse(int http_status, const absl::Status& s) {
  HttpResponse res;
  res.status = http_status;
  res.SetBody(absl::StrCat("{\"code\":", JsonQuote(absl::StatusCodeToString(s.code())),
                           ",\"error\":", JsonQuote(s.message()), "}\n"),
              "application/json");
  return res;
}

void SendError(HttpResponse& res, const absl::Status& s) {
  res = ErrorResponse(HttpStatus(s.code()), s);
}

void SendMessage(HttpResponse& res, const google::protobuf::Message& msg, int status = 200) {
  res.status = status;
  res.SetBody(ProtoToJson(msg, {/*all_fields=*/true}).value_or("{}"), "application/json");
}

template <typename T>
void Send(HttpResponse& res, const absl::StatusOr<T>& r, int status = 200) {
  if (r.ok()) {
    SendMessage(res, *r, status);
  } else {
    SendError(res, r.status());
  }
}

void SetPhoto(const http::FormPart& part, v1::Photo* p) {
  p->set_data(std::string(part.data));
  p->set_name(part.filename);
}

// Every non-empty part named `field` as a Photo (file name kept).
void AddPhotos(const Form& form, absl::string_view field,
               google::protobuf::RepeatedPtrField<v1::Photo>* out) {
  for (const http::FormPart& part : form.parts()) {
    if (part.name != field || (part.filename.empty() && part.data.empty())) continue;
    SetPhoto(part, out->Add());
  }
}

// A form field, else the query parameter of that name.
std::string Field(const HttpRequest& req, const Form& form, absl::string_view name) {
  if (form.Find(name) != nullptr) return form.Value(name);
  return req.Query(name);
}

absl::StatusOr<uint32_t> UintField(const HttpRequest& req, const Form& form,
                                   absl::string_view name) {
  const std::string v = Field(req, form, name);
  uint32_t n = 0;
  if (!v.empty() && !absl::SimpleAtoi(v, &n)) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must be a non-negative integer"));
  }
  return n;
}

const char* PhotoContentType(absl::string_view data) {
  auto h = image::ReadImageHeader(data);
  if (!h.ok()) return "application/octet-stream";
  switch (h->format) {
    case image::ImageFormat::kJpeg:
      return "image/jpeg";
    case image::ImageFormat::kPng:
      return "image/png";
    case image::ImageFormat::kWebp:
      return "image/webp";
  }
  return "application/octet-stream";
}

}  // namespace

HttpApi::HttpApi(GatewayCore* core, rpc::TokenAuthenticator auth, HttpApiOptions options)
    : core_(core), auth_(std::move(auth)), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<HttpApi>> HttpApi::Start(GatewayCore* core,
                                                        rpc::TokenAuthenticator auth,
                                                        HttpApiOptions options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("http port ", options.port, " out of range"));
  }
  std::unique_ptr<HttpApi> api(new HttpApi(core, std::move(auth), std::move(options)));
  http::HttpServerOptions so;
  so.host = api->options_.host;
  so.port = api->options_.port;
  so.tls_cert = api->options_.tls_cert;
  so.tls_key = api->options_.tls_key;
  so.allowed_hosts = api->options_.allowed_hosts;
  so.worker_threads = api->options_.worker_threads;
  so.max_connections_per_client = api->options_.max_connections_per_client;
  so.default_headers = {{"X-Content-Type-Options", "nosniff"},
                        {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
                        {"X-Frame-Options", "DENY"},
                        {"Referrer-Policy", "no-referrer"},
                        {"Cache-Control", "no-store"}};
  so.render_error = ErrorResponse;
  so.http_status_of = [](const absl::Status& s) { return HttpStatus(s.code()); };
  std::vector<http::Route> routes = api->Routes();
  if (api->options_.metrics) {
    metrics::InstrumentRoutes(api->options_.metrics, "dogsearch_gateway_http", &routes);
  }
  auto server = http::HttpServer::Start(std::move(so), std::move(routes));
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("web page: ", server.status().message()));
  }
  api->server_ = std::move(*server);
  api->port_ = api->server_->port();
  return api;
}

HttpApi::~HttpApi() { Stop(); }

void HttpApi::Stop() {
  if (server_) server_->Stop();
}

std::vector<http::Route> HttpApi::Routes() const {
  const IntakeLimits& lim = core_->options().limits;
  const uint64_t one_photo = lim.max_photo_bytes + kFormOverhead;
  const uint64_t upload = lim.max_request_bytes + kFormOverhead;
  const size_t max_parts = lim.max_photos_per_request + 16;
  // The token, checked on the request head before any body byte is read.
  auto admit = [this](K kind) {
    return [this, kind](const HttpRequest& req) {
      const std::string* h = req.Header("authorization");
      if (h == nullptr) return auth_.CheckHeader(nullptr, kind);
      absl::string_view v(*h);
      return auth_.CheckHeader(&v, kind);
    };
  };
  auto deadline = [this] { return absl::Now() + options_.request_timeout; };
  // Handlers that read a form body.
  auto with_form = [max_parts](auto body) {
    return [max_parts, body](const HttpRequest& req, HttpResponse& res) {
      const std::string* ct = req.Header("content-type");
      auto form = Form::Parse(ct == nullptr ? "" : *ct, req.body, max_parts);
      if (!form.ok()) return SendError(res, form.status());
      body(req, *form, res);
    };
  };
  std::vector<http::Route> r;
  r.push_back({"GET", "/", 0, nullptr, [](const HttpRequest&, HttpResponse& res) {
                 res.Set("Content-Security-Policy", kPageCsp);
                 res.Set("Cache-Control", "no-cache");
                 res.SetBody(kIndexHtml, "text/html; charset=utf-8");
               }});
  r.push_back({"GET", "/app.js", 0, nullptr, [](const HttpRequest&, HttpResponse& res) {
                 res.Set("Cache-Control", "no-cache");
                 res.SetBody(kAppJs, "text/javascript; charset=utf-8");
               }});
  r.push_back({"GET", "/healthz", 0, nullptr, [this](const HttpRequest&, HttpResponse& res) {
                 const bool up = core_->serving();
                 res.status = up ? 200 : 503;
                 res.SetBody(up ? "ok\n" : "no model serving yet\n", "text/plain");
               }});
  r.push_back(
      {"GET", "/api/model", 0, admit(K::kRead), [this](const HttpRequest&, HttpResponse& res) {
         SendMessage(res, core_->GetModelStatus());
       }});
  r.push_back({"POST", "/api/upgrade", 64 << 10, admit(K::kMutating),
               [this](const HttpRequest& req, HttpResponse& res) {
                 v1::StartModelUpgradeRequest u;
                 if (!google::protobuf::util::JsonStringToMessage(req.body, &u).ok()) {
                   const std::string* ct = req.Header("content-type");
                   auto form = Form::Parse(ct == nullptr ? "" : *ct, req.body, 16);
                   u.set_version(form.ok() ? Field(req, *form, "version") : req.Query("version"));
                 }
                 Send(res, core_->StartModelUpgrade(u));
               }});
  r.push_back(
      {"POST", "/api/search", one_photo, admit(K::kRead),
       with_form([this, deadline](const HttpRequest& req, const Form& form, HttpResponse& res) {
         v1::SearchRequest s;
         if (const http::FormPart* p = form.Find("photo")) SetPhoto(*p, s.mutable_photo());
         auto k = UintField(req, form, "k");
         auto per = UintField(req, form, "photos_per_dog");
         if (!k.ok()) return SendError(res, k.status());
         if (!per.ok()) return SendError(res, per.status());
         s.set_k(*k);
         s.set_photos_per_dog(*per);
         Send(res, core_->Search(s, deadline()));
       })});
  r.push_back({"POST", "/api/verify", 2 * one_photo, admit(K::kRead),
               with_form([this, deadline](const HttpRequest&, const Form& form, HttpResponse& res) {
                 v1::VerifyRequest v;
                 if (const http::FormPart* p = form.Find("photo_a"))
                   SetPhoto(*p, v.mutable_photo_a());
                 if (const http::FormPart* p = form.Find("photo_b"))
                   SetPhoto(*p, v.mutable_photo_b());
                 Send(res, core_->Verify(v, deadline()));
               })});
  r.push_back(
      {"GET", "/api/dogs", 0, admit(K::kRead), [this](const HttpRequest& req, HttpResponse& res) {
         v1::ListDogsRequest l;
         auto size = UintField(req, Form(), "page_size");
         if (!size.ok()) return SendError(res, size.status());
         l.set_page_size(*size);
         l.set_page_token(req.Query("page_token"));
         Send(res, core_->ListDogs(l));
       }});
  r.push_back(
      {"POST", "/api/dogs", upload, admit(K::kMutating),
       with_form([this, deadline](const HttpRequest& req, const Form& form, HttpResponse& res) {
         v1::EnrollRequest e;
         e.set_dog_id(Field(req, form, "dog_id"));
         e.set_name(Field(req, form, "name"));
         e.set_notes(Field(req, form, "notes"));
         AddPhotos(form, "photos", e.mutable_photos());
         Send(res, core_->Enroll(e, deadline()), 201);
       })});
  r.push_back({"GET", "/api/dogs/{}", 0, admit(K::kRead),
               [this](const HttpRequest& req, HttpResponse& res) {
                 v1::GetDogRequest g;
                 g.set_dog_id(req.path_params[0]);
                 Send(res, core_->GetDog(g));
               }});
  r.push_back({"DELETE", "/api/dogs/{}", 0, admit(K::kMutating),
               [this, deadline](const HttpRequest& req, HttpResponse& res) {
                 v1::DeleteDogRequest d;
                 d.set_dog_id(req.path_params[0]);
                 absl::Status st = core_->DeleteDog(d, deadline());
                 if (!st.ok()) return SendError(res, st);
                 res.SetBody("{}", "application/json");
               }});
  r.push_back(
      {"POST", "/api/dogs/{}/photos", upload, admit(K::kMutating),
       with_form([this, deadline](const HttpRequest& req, const Form& form, HttpResponse& res) {
         v1::AddPhotosRequest a;
         a.set_dog_id(req.path_params[0]);
         AddPhotos(form, "photos", a.mutable_photos());
         Send(res, core_->AddPhotos(a, deadline()));
       })});
  r.push_back({"DELETE", "/api/dogs/{}/photos/{}", 0, admit(K::kMutating),
               [this, deadline](const HttpRequest& req, HttpResponse& res) {
                 v1::RemovePhotoRequest rp;
                 rp.set_dog_id(req.path_params[0]);
                 rp.set_photo_id(req.path_params[1]);
                 Send(res, core_->RemovePhoto(rp, deadline()));
               }});
  r.push_back({"GET", "/api/photos/{}", 0, admit(K::kRead),
               [this](const HttpRequest& req, HttpResponse& res) {
                 auto data = core_->GetPhoto(req.path_params[0]);
                 if (!data.ok()) return SendError(res, data.status());
                 // Content-addressed, so immutable; never in shared caches when reads need a token.
                 res.Set("Cache-Control", auth_.protects_reads()
                                              ? "private, max-age=31536000, immutable"
                                              : "public, max-age=31536000, immutable");
                 const char* type = PhotoContentType(*data);
                 res.SetBody(std::move(*data), type);
               }});
  r.push_back({"GET", "/api/map", 0, admit(K::kRead),
               [this, deadline](const HttpRequest& req, HttpResponse& res) {
                 auto max = UintField(req, Form(), "max_points");
                 if (!max.ok()) return SendError(res, max.status());
                 const size_t n = *max == 0 ? options_.max_map_points
                                            : std::min<size_t>(*max, options_.max_map_points);
                 auto points = core_->EmbeddingMap(n, deadline());
                 if (!points.ok()) return SendError(res, points.status());
                 std::string json = "{\"points\":[";
                 for (size_t i = 0; i < points->size(); ++i) {
                   const MapPoint& p = (*points)[i];
                   absl::StrAppend(&json, i ? "," : "", "{\"photo_id\":", JsonQuote(p.photo_id),
                                   ",\"dog_id\":", JsonQuote(p.dog_id),
                                   ",\"dog_name\":", JsonQuote(p.dog_name), ",\"x\":", p.x,
                                   ",\"y\":", p.y, "}");
                 }
                 json += "]}\n";
                 res.SetBody(std::move(json), "application/json");
               }});
  return r;
}

}  // namespace dogsearch::gateway
