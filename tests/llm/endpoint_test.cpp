// Resolving the endpoint: flags over environment, the key from the environment only, and
// a message naming the flag and the variable for whatever is missing.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "llm/llm.h"

namespace mage::llm {
namespace {

Environment fake_environment(std::map<std::string, std::string> values) {
  return [values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::string config_error(const std::optional<std::string>& url, const std::optional<std::string>& model,
                         const Environment& env) {
  try {
    resolve_endpoint(url, model, env);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Config);
    return e.what();
  }
  ADD_FAILURE() << "resolved";
  return "";
}

TEST(Endpoint, FlagsOverEnvironment) {
  auto env = fake_environment({{"MAGE_LLM_BASE_URL", "http://env:1/v1"}, {"MAGE_LLM_MODEL", "env-model"}});
  Endpoint from_env = resolve_endpoint(std::nullopt, std::nullopt, env);
  EXPECT_EQ(from_env.base_url, "http://env:1/v1");
  EXPECT_EQ(from_env.model, "env-model");
  EXPECT_TRUE(from_env.api_key.empty());

  Endpoint from_flags = resolve_endpoint("https://flag:2/v1/", "flag-model", env);
  EXPECT_EQ(from_flags.base_url, "https://flag:2/v1");
  EXPECT_EQ(from_flags.model, "flag-model");

  // An empty flag counts as absent.
  EXPECT_EQ(resolve_endpoint("", "", env).model, "env-model");
}

TEST(Endpoint, TheKeyComesFromTheEnvironmentOnly) {
  auto env = fake_environment({{"MAGE_LLM_API_KEY", "sk-xyz"}});
  Endpoint endpoint = resolve_endpoint("http://h/v1", "m", env);
  EXPECT_FALSE(endpoint.api_key.empty());
  EXPECT_EQ(endpoint.api_key.redact("key sk-xyz and sk-xyz again"),
            "key [MAGE_LLM_API_KEY] and [MAGE_LLM_API_KEY] again");
  nlohmann::json j = endpoint;
  EXPECT_EQ(j.dump(), R"({"api_key_set":true,"base_url":"http://h/v1","model":"m"})");
}

TEST(Endpoint, MissingOrWrongSettingsAreNamed) {
  auto none = fake_environment({});
  std::string no_url = config_error(std::nullopt, "m", none);
  EXPECT_NE(no_url.find("--llm-url"), std::string::npos) << no_url;
  EXPECT_NE(no_url.find("MAGE_LLM_BASE_URL"), std::string::npos) << no_url;

  std::string no_model = config_error("http://h/v1", std::nullopt, none);
  EXPECT_NE(no_model.find("--llm-model"), std::string::npos) << no_model;
  EXPECT_NE(no_model.find("MAGE_LLM_MODEL"), std::string::npos) << no_model;

  std::string bad_scheme = config_error(std::nullopt, "m", fake_environment({{"MAGE_LLM_BASE_URL", "localhost:8080"}}));
  EXPECT_EQ(bad_scheme, "the URL of MAGE_LLM_BASE_URL ('localhost:8080') does not start with http:// or https://");
}

TEST(Endpoint, RedactingWithoutAKeyChangesNothing) { EXPECT_EQ(ApiKey().redact("text"), "text"); }

}  // namespace
}  // namespace mage::llm
