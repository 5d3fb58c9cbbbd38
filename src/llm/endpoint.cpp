// The endpoint: flags over environment, the key from the environment only.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "llm/llm.h"

namespace mage::llm {

std::string ApiKey::redact(std::string text) const {
  if (value_.empty()) return text;
  static constexpr std::string_view kPlaceholder = "[MAGE_LLM_API_KEY]";
  for (size_t at = text.find(value_); at != std::string::npos; at = text.find(value_, at + kPlaceholder.size()))
    text.replace(at, value_.size(), kPlaceholder);
  return text;
}

Environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

namespace {

struct Setting {
  std::string value;
  std::string source;  // "--llm-url" or "MAGE_LLM_BASE_URL": where the value came from
};

std::optional<Setting> pick(const std::optional<std::string>& flag, std::string_view flag_name, const Environment& env,
                            std::string_view variable) {
  if (flag && !flag->empty()) return Setting{*flag, std::string(flag_name)};
  if (auto value = env(variable); value && !value->empty()) return Setting{*value, std::string(variable)};
  return std::nullopt;
}

}  // namespace

Endpoint resolve_endpoint(const std::optional<std::string>& url_flag, const std::optional<std::string>& model_flag,
                          const Environment& env) {
  auto url = pick(url_flag, "--llm-url", env, kBaseUrlVariable);
  if (!url)
    throw Error(Error::Kind::Config,
                "no language model configured: pass --llm-url URL or set MAGE_LLM_BASE_URL (for example "
                "http://127.0.0.1:8080/v1 for llama.cpp's server; see docs/llm.md)");
  auto model = pick(model_flag, "--llm-model", env, kModelVariable);
  if (!model)
    throw Error(Error::Kind::Config,
                "no model named: pass --llm-model NAME or set MAGE_LLM_MODEL (the name the server knows the model "
                "by; see docs/llm.md)");
  Endpoint endpoint;
  if (auto key = env(kApiKeyVariable)) endpoint.api_key = ApiKey(*key);
  endpoint.base_url = url->value;
  while (endpoint.base_url.ends_with('/')) endpoint.base_url.pop_back();
  if (!endpoint.base_url.starts_with("http://") && !endpoint.base_url.starts_with("https://"))
    throw Error(Error::Kind::Config, endpoint.api_key.redact("the URL of " + url->source + " ('" + url->value +
                                                             "') does not start with http:// or https://"));
  endpoint.model = model->value;
  return endpoint;
}

void to_json(nlohmann::json& j, const Endpoint& endpoint) {
  j = {{"base_url", endpoint.base_url}, {"model", endpoint.model}, {"api_key_set", !endpoint.api_key.empty()}};
}

}  // namespace mage::llm
