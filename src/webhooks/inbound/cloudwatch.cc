// Amazon SNS HTTP/S deliveries carrying CloudWatch alarm state changes, and the SNS
// subscription handshake.

#include <cctype>

#include "core/json_writer.h"
#include "normalize/text.h"
#include "webhooks/inbound/provider_internal.h"

namespace causeloop::webhooks::inbound::internal {
namespace {

using normalize::TrimAscii;

// Deep enough for any alarm message; the same bound the server parses requests with.
constexpr size_t kMaxMessageDepth = 64;

// "us-east-1" from "arn:aws:cloudwatch:us-east-1:123456789012:alarm:name".
std::string_view ArnRegion(std::string_view arn) {
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    start = arn.find(':', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  size_t end = arn.find(':', start);
  return end == std::string_view::npos ? std::string_view() : arn.substr(start, end - start);
}

std::string PercentEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// "https://sns.<region>.amazonaws.com[.cn]/…" and nothing else: the receiver fetches this URL.
bool IsSnsUrl(std::string_view url) {
  std::string_view origin = normalize::internal::UrlOrigin(url);
  if (origin.substr(0, 8) != "https://") return false;
  std::string host = normalize::LowerAscii(origin.substr(8));
  if (host.find_first_of(":@") != std::string::npos) return false;  // no port, no userinfo
  if (host.substr(0, 4) != "sns.") return false;
  for (std::string_view suffix : {".amazonaws.com", ".amazonaws.com.cn"}) {
    if (host.size() > 4 + suffix.size() && host.ends_with(suffix)) {
      std::string_view region(host.data() + 4, host.size() - 4 - suffix.size());
      if (region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") ==
          std::string_view::npos) {
        return true;
      }
    }
  }
  return false;
}

Result<model::IssueRecord> AlarmRecord(const ObjectView& alarm, std::string_view state) {
  model::IssueRecord r;
  CAUSELOOP_TRY_ASSIGN(name, alarm.String("AlarmName"));
  CAUSELOOP_TRY_ASSIGN(arn, alarm.String("AlarmArn"));
  std::string account(alarm.StringOr("AWSAccountId").value_or(""));
  std::string region(alarm.StringOr("Region").value_or(""));
  if (arn && !TrimAscii(*arn).empty()) {
    r.external_id = std::string(TrimAscii(*arn));
  } else if (name && !TrimAscii(*name).empty()) {
    r.external_id = account + "/" + region + "/" + std::string(TrimAscii(*name));
  } else {
    return Fail(FieldError("Message.AlarmName", "a CloudWatch alarm needs its AlarmName"));
  }
  r.title = std::string(name.value_or(""));
  std::string description(alarm.StringOr("AlarmDescription").value_or(""));
  std::string reason(alarm.StringOr("NewStateReason").value_or(""));
  r.body = description;
  if (!reason.empty()) r.body += (r.body.empty() ? "" : "\n") + reason;

  if (!account.empty()) r.labels["account"] = account;
  if (!region.empty()) r.labels["region"] = region;
  if (auto trigger = alarm.ObjectOr("Trigger")) {
    if (auto ns = trigger->StringOr("Namespace"); ns && !ns->empty()) {
      r.labels["namespace"] = std::string(*ns);
    }
    if (auto metric = trigger->StringOr("MetricName"); metric && !metric->empty()) {
      r.labels["metric"] = std::string(*metric);
    }
    simdjson::dom::array dimensions;
    if (auto d = trigger->Get("Dimensions");
        d && d->get_array().get(dimensions) == simdjson::SUCCESS) {
      for (simdjson::dom::element dim : dimensions) {
        simdjson::dom::object obj;
        if (dim.get_object().get(obj) != simdjson::SUCCESS) continue;
        ObjectView view(obj, "");
        // CloudWatch writes these two keys in lower case, unlike the rest of the message.
        auto dim_name = view.StringOr("name");
        auto dim_value = view.StringOr("value");
        if (dim_name && !dim_name->empty() && dim_value) {
          r.labels["dimension." + std::string(*dim_name)] = std::string(*dim_value);
        }
      }
    }
  }

  CAUSELOOP_TRY_ASSIGN(changed, alarm.String("StateChangeTime"));
  if (changed) {
    // CloudWatch writes "2015-06-03T17:43:27.123+0000", Jira's offset form.
    CAUSELOOP_TRY_ASSIGN(
        t, normalize::internal::ParseJiraTimestamp(*changed, "Message.StateChangeTime"));
    r.source_updated_at = t;
    if (state == "ALARM") r.source_created_at = t;
  }
  std::string_view arn_region = ArnRegion(arn.value_or(""));
  if (!arn_region.empty() && name) {
    r.external_url =
        "https://console.aws.amazon.com/cloudwatch/home?region=" + std::string(arn_region) +
        "#alarmsV2:alarm/" + PercentEncode(*name);
  }

  JsonWriter meta;
  meta.BeginObject();
  if (arn) meta.Field("alarm_arn", *arn);
  meta.Field("new_state", state);
  if (auto old_state = alarm.StringOr("OldStateValue")) meta.Field("old_state", *old_state);
  meta.EndObject();
  r.metadata_json = meta.Take();
  return r;
}

}  // namespace

Result<Records> ParseCloudWatch(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  CAUSELOOP_TRY_ASSIGN(type, root.String("Type"));
  if (!type) return Fail(FieldError("Type", "an SNS message needs its Type"));
  if (*type == "SubscriptionConfirmation") {
    // Validated here too, so a bad handshake is refused whichever function sees it first.
    auto confirmation = ParseSnsSubscriptionConfirmation(payload);
    if (!confirmation) return Fail(std::move(confirmation.error()));
    return Records{};
  }
  if (*type != "Notification") return Records{};  // UnsubscribeConfirmation

  CAUSELOOP_TRY_ASSIGN(message, root.String("Message"));
  if (!message) return Fail(FieldError("Message", "an SNS notification needs its Message"));
  simdjson::dom::parser parser;
  simdjson::dom::element alarm_element;
  if (parser.allocate(message->size() < 64 ? 64 : message->size(), kMaxMessageDepth) !=
          simdjson::SUCCESS ||
      parser.parse(message->data(), message->size()).get(alarm_element) != simdjson::SUCCESS) {
    return Fail(FieldError("Message", "Message must be the JSON of a CloudWatch alarm"));
  }
  simdjson::dom::object alarm_obj;
  if (alarm_element.get_object().get(alarm_obj) != simdjson::SUCCESS) {
    return Fail(FieldError("Message", "Message must be the JSON of a CloudWatch alarm"));
  }
  ObjectView alarm(alarm_obj, "Message");
  CAUSELOOP_TRY_ASSIGN(state, alarm.String("NewStateValue"));
  if (!state) {
    return Fail(FieldError("Message.NewStateValue",
                           "Message must be a CloudWatch alarm state change (NewStateValue)"));
  }
  Action action = Action::kIgnore;
  if (*state == "ALARM") action = Action::kUpsert;
  if (*state == "OK") action = Action::kResolve;

  auto record = AlarmRecord(alarm, *state);
  if (!record) {
    if (action == Action::kIgnore) return Records{};
    return Fail(std::move(record.error()));
  }
  if (action == Action::kUpsert) record->status = model::IssueStatus::kOpen;
  CAUSELOOP_TRY_ASSIGN(out, Finish(std::move(*record), "cloudwatch", action));
  return Records{std::move(out)};
}

}  // namespace causeloop::webhooks::inbound::internal

namespace causeloop::webhooks::inbound {

Result<std::optional<SnsSubscriptionConfirmation>> ParseSnsSubscriptionConfirmation(
    simdjson::dom::element payload) {
  using internal::FieldError;
  using normalize::TrimAscii;
  simdjson::dom::object obj;
  if (payload.get_object().get(obj) != simdjson::SUCCESS) {
    return std::optional<SnsSubscriptionConfirmation>();
  }
  internal::ObjectView root(obj, "");
  if (root.StringOr("Type").value_or("") != "SubscriptionConfirmation") {
    return std::optional<SnsSubscriptionConfirmation>();
  }
  CAUSELOOP_TRY_ASSIGN(url, root.String("SubscribeURL"));
  CAUSELOOP_TRY_ASSIGN(topic, root.String("TopicArn"));
  if (!url || !internal::IsSnsUrl(TrimAscii(*url))) {
    return Fail(FieldError(
        "SubscribeURL", "SubscribeURL must be an https URL on an sns.<region>.amazonaws.com host"));
  }
  if (!topic || TrimAscii(*topic).empty()) {
    return Fail(FieldError("TopicArn", "a subscription confirmation needs its TopicArn"));
  }
  SnsSubscriptionConfirmation c;
  c.subscribe_url = std::string(TrimAscii(*url));
  c.topic_arn = std::string(TrimAscii(*topic));
  c.message_id = std::string(root.StringOr("MessageId").value_or(""));
  return std::optional<SnsSubscriptionConfirmation>(std::move(c));
}

}  // namespace causeloop::webhooks::inbound
