// Graph error bodies -> Status: codes, request-ids and Intune's JSON-inside-a-string messages.

#include "graph/internal/graph_errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_http_transport.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::graph::internal {
namespace {

using certdeploy::testing::Response;
using certdeploy::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// The shape reported for opaque userPfxCertificate import failures (reference 5.3).
constexpr char kIntuneBody[] =
    R"({"error":{"code":"BadRequest","message":"{\r\n  \"_version\": 3,\r\n  \"Message\": \"An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: 7d1c - Url: https://fef.msua06.manage.microsoft.com/RACerts/StatelessImportPFXService/deviceManagement/userPfxCertificates?api-version=5021-04-09\",\r\n  \"CustomApiErrorPhrase\": \"\",\r\n  \"RetryAfter\": null,\r\n  \"ErrorSourceService\": \"\",\r\n  \"HttpHeaders\": \"{}\"\r\n}","innerError":{"date":"2026-01-01T00:00:00","request-id":"rid-body","client-request-id":"c1"}}})";

TEST(GraphErrorsTest, UnwrapsIntuneJsonInsideAString) {
  GraphErrorBody error = ParseGraphErrorBody(kIntuneBody);
  EXPECT_EQ(error.code, "BadRequest");
  EXPECT_THAT(error.message, ::testing::StartsWith("An error has occurred - Operation ID"));
  EXPECT_THAT(error.message, Not(HasSubstr("_version")));
  EXPECT_EQ(error.request_id, "rid-body");
}

TEST(GraphErrorsTest, KeepsPlainMessages) {
  EXPECT_EQ(UnwrapIntuneMessage("Resource not found for the segment 'x'."),
            "Resource not found for the segment 'x'.");
  EXPECT_EQ(UnwrapIntuneMessage("prefix: {\"Message\":\"inner\"}"), "inner");
  EXPECT_EQ(UnwrapIntuneMessage("{not json}"), "{not json}");
  EXPECT_EQ(UnwrapIntuneMessage(""), "");
}

TEST(GraphErrorsTest, ToleratesNonJsonAndNestedInnerErrors) {
  EXPECT_EQ(ParseGraphErrorBody("<html>502</html>").code, "");
  GraphErrorBody nested = ParseGraphErrorBody(
      R"({"error":{"code":"X","message":"m","innererror":{"innerError":{"request-id":"deep"}}}})");
  EXPECT_EQ(nested.request_id, "deep");
}

TEST(GraphErrorsTest, StatusNamesTheRequestIdFromTheHeaderFirst) {
  Status s = StatusFromResponse(Response(400, kIntuneBody).WithHeader("request-id", "rid-header"),
                                "POST", "/beta/deviceManagement/userPfxCertificates", std::nullopt);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument,
                          ::testing::AllOf(
                              ::testing::StartsWith("POST /beta/deviceManagement/"
                                                    "userPfxCertificates: HTTP 400 BadRequest: "
                                                    "An error has occurred"),
                              ::testing::EndsWith("(request-id rid-header)"))));
  ASSERT_NE(s.details(), nullptr);
  EXPECT_EQ(s.details()->http_status, 400);
  EXPECT_EQ(s.details()->service_code, "BadRequest");
  EXPECT_EQ(s.details()->request_id, "rid-header");
}

TEST(GraphErrorsTest, ARequestIdIntuneAlreadyNamesIsNotRepeated) {
  // Intune's text names the request-id as its Operation ID: the message keeps that one mention,
  // and Status::ToString adds none.
  const std::string id = "00000000-0000-0000-0000-000000000000";
  Status s = StatusFromResponse(Response(400, kIntuneBody).WithHeader("request-id", id), "POST",
                                "/beta/deviceManagement/userPfxCertificates", std::nullopt);
  const std::string text = s.ToString();
  EXPECT_NE(text.find(id), std::string::npos) << text;
  EXPECT_EQ(text.find(id), text.rfind(id)) << text;
  EXPECT_THAT(text, ::testing::EndsWith("(http 400, BadRequest)"));
  EXPECT_EQ(s.details()->request_id, id);
}

TEST(GraphErrorsTest, RetryAfterGoesIntoTheDetails) {
  Status s = StatusFromResponse(Response(429), "GET", "/beta/x", std::chrono::seconds(7));
  EXPECT_THAT(s, StatusIs(StatusCode::kResourceExhausted, HasSubstr("(no request-id)")));
  EXPECT_EQ(s.details()->retry_after, std::chrono::milliseconds(7000));
}

TEST(GraphErrorsTest, MapsHttpStatuses) {
  struct Case {
    int status;
    const char* method;
    StatusCode code;
  };
  const Case cases[] = {
      {400, "POST", StatusCode::kInvalidArgument}, {401, "GET", StatusCode::kUnauthenticated},
      {403, "GET", StatusCode::kPermissionDenied}, {404, "GET", StatusCode::kNotFound},
      {409, "POST", StatusCode::kAlreadyExists},   {409, "PATCH", StatusCode::kAborted},
      {412, "PATCH", StatusCode::kAborted},        {429, "GET", StatusCode::kResourceExhausted},
      {500, "GET", StatusCode::kUnavailable},      {503, "POST", StatusCode::kUnavailable},
      {504, "GET", StatusCode::kUnavailable},      {424, "POST", StatusCode::kFailedPrecondition},
      {422, "POST", StatusCode::kInvalidArgument},
      // A write answered with a 5xx other than 503 may have been committed.
      {500, "POST", StatusCode::kUnknownOutcome},  {502, "PATCH", StatusCode::kUnknownOutcome},
      {500, "DELETE", StatusCode::kUnknownOutcome}, {502, "GET", StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(StatusCodeForHttp(c.status, c.method), c.code) << c.status << " " << c.method;
  }
}

}  // namespace
}  // namespace certdeploy::graph::internal
