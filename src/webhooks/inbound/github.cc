// GitHub webhooks: the `issues` and `workflow_run` events (X-GitHub-Event names the event).

#include "core/json_writer.h"
#include "normalize/text.h"
#include "webhooks/inbound/provider_internal.h"

namespace causeloop::webhooks::inbound::internal {
namespace {

using normalize::LowerAscii;
using normalize::TrimAscii;

Result<Records> IssuesEvent(const ObjectView& root) {
  CAUSELOOP_TRY_ASSIGN(action_name, root.String("action"));
  if (!action_name) return Fail(FieldError("action", "an issues event needs an action"));
  std::string name = LowerAscii(*action_name);
  Action action = Action::kIgnore;
  if (name == "opened" || name == "edited" || name == "reopened") action = Action::kUpsert;
  if (name == "closed") action = Action::kResolve;

  auto issue = root.Get("issue");
  if (!issue) {
    if (action == Action::kIgnore) return Records{};
    return Fail(FieldError("issue", "an issues event needs its issue"));
  }
  auto record = normalize::internal::NativeGitHub(*issue);
  if (!record) {
    if (action == Action::kIgnore) return Records{};
    return Fail(Under(std::move(record.error()), "issue"));
  }
  if (record->service.empty()) {
    if (auto repo = root.ObjectOr("repository")) {
      record->service = std::string(repo->StringOr("full_name").value_or(""));
    }
  }
  CAUSELOOP_TRY_ASSIGN(out, Finish(std::move(*record), "github", action));
  return Records{std::move(out)};
}

// The first line of a commit message, for the body.
std::string_view FirstLine(std::string_view text) { return text.substr(0, text.find('\n')); }

Result<Records> WorkflowRunEvent(const ObjectView& root) {
  CAUSELOOP_TRY_ASSIGN(action_name, root.String("action"));
  CAUSELOOP_TRY_ASSIGN(run, root.Object("workflow_run"));
  if (!run) return Fail(FieldError("workflow_run", "a workflow_run event needs its workflow_run"));

  CAUSELOOP_TRY_ASSIGN(conclusion_text, run->String("conclusion"));
  std::string conclusion = LowerAscii(conclusion_text.value_or(""));
  Action action = Action::kIgnore;
  if (LowerAscii(action_name.value_or("")) == "completed") {
    if (conclusion == "failure" || conclusion == "timed_out" || conclusion == "startup_failure") {
      action = Action::kUpsert;
    } else if (conclusion == "success") {
      action = Action::kResolve;
    }
  }

  // The event's repository is the full object (default_branch, html_url); the run's is a stub.
  std::optional<ObjectView> repository = root.ObjectOr("repository");
  if (!repository) repository = run->ObjectOr("repository");
  std::string repo(repository ? repository->StringOr("full_name").value_or("") : "");
  CAUSELOOP_TRY_ASSIGN(workflow_id, run->Id("workflow_id"));
  if (repo.empty() || !workflow_id) {
    if (action == Action::kIgnore) return Records{};
    return Fail(FieldError(repo.empty() ? "workflow_run.repository" : "workflow_run.workflow_id",
                           "a workflow run needs its repository and workflow_id"));
  }
  CAUSELOOP_TRY_ASSIGN(branch_text, run->String("head_branch"));
  std::string branch(branch_text.value_or(""));
  std::string name(run->StringOr("name").value_or(""));
  if (name.empty()) {
    if (auto workflow = root.ObjectOr("workflow")) {
      name = std::string(workflow->StringOr("name").value_or(""));
    }
  }
  if (name.empty()) name = std::string(run->StringOr("path").value_or(*workflow_id));

  model::IssueRecord r;
  r.external_id = repo + "/actions/workflows/" + *workflow_id + "@" + branch;
  r.title = "Workflow \"" + name + "\" failed" + (branch.empty() ? "" : " on " + branch);
  r.service = repo;
  r.status = action == Action::kUpsert ? model::IssueStatus::kOpen : model::IssueStatus::kResolved;
  if (action == Action::kIgnore) r.status.reset();

  std::string sha(run->StringOr("head_sha").value_or(""));
  std::optional<int64_t> run_number_value;
  if (auto n = run->Get("run_number"); n && n->is_int64()) {
    run_number_value = n->get_int64().value_unsafe();
  }
  std::string run_number = run_number_value ? std::to_string(*run_number_value) : "";
  std::string body = "Run";
  if (!run_number.empty()) body += " #" + run_number;
  body += " of " + std::string(run->StringOr("path").value_or(name));
  body += conclusion.empty() ? " has not concluded." : " concluded: " + conclusion + ".";
  if (!sha.empty()) {
    body += "\nCommit " + sha.substr(0, 7);
    if (auto commit = run->ObjectOr("head_commit")) {
      if (auto message = commit->StringOr("message"); message && !message->empty()) {
        body += ": " + std::string(FirstLine(*message));
      }
    }
  }
  std::string actor;
  for (std::string_view who : {"triggering_actor", "actor"}) {
    if (auto user = run->ObjectOr(who); user && actor.empty()) {
      actor = std::string(user->StringOr("login").value_or(""));
    }
  }
  std::string event(run->StringOr("event").value_or(""));
  if (!event.empty()) body += "\nTriggered by " + event + (actor.empty() ? "" : " (" + actor + ")");
  r.body = std::move(body);

  r.labels["workflow"] = name;
  if (!branch.empty()) r.labels["branch"] = branch;
  if (!event.empty()) r.labels["event"] = event;
  if (!conclusion.empty()) r.labels["conclusion"] = conclusion;
  // A red default branch blocks everyone; a red feature branch mostly its author.
  if (action == Action::kUpsert && repository &&
      repository->StringOr("default_branch").value_or("") == branch && !branch.empty()) {
    r.severity = model::Severity::kP2;
  }

  CAUSELOOP_TRY_ASSIGN(started, run->String("run_started_at"));
  CAUSELOOP_TRY_ASSIGN(created, run->String("created_at"));
  if (started || created) {
    CAUSELOOP_TRY_ASSIGN(t,
                         normalize::internal::ParseTimestamp(
                             started ? *started : *created,
                             started ? "workflow_run.run_started_at" : "workflow_run.created_at"));
    r.source_created_at = t;
  }
  CAUSELOOP_TRY_ASSIGN(updated, run->String("updated_at"));
  if (updated) {
    CAUSELOOP_TRY_ASSIGN(t,
                         normalize::internal::ParseTimestamp(*updated, "workflow_run.updated_at"));
    r.source_updated_at = t;
  }
  // Finalize keeps it only if it is a followable link.
  if (auto url = run->StringOr("html_url")) r.external_url = std::string(*url);

  if (action == Action::kResolve) {
    model::Resolution res;
    res.summary = "Workflow run" + (run_number.empty() ? "" : " #" + run_number) + " succeeded";
    if (!sha.empty()) {
      res.fix = "Fixed in commit " + sha;
      std::string_view repo_url = repository ? repository->StringOr("html_url").value_or("") : "";
      if (normalize::internal::IsHttpUrl(repo_url)) {
        res.fix_url = std::string(repo_url) + "/commit/" + sha;
      }
    }
    res.resolved_by = actor;
    res.source_field = "workflow_run.conclusion";
    r.resolution = std::move(res);
  }

  JsonWriter meta;
  meta.BeginObject();
  if (auto id = run->Get("id"); id && id->is_int64()) {
    meta.Key("run_id").Int(id->get_int64().value_unsafe());
  }
  if (run_number_value) meta.Key("run_number").Int(*run_number_value);
  if (auto attempt = run->Get("run_attempt"); attempt && attempt->is_int64()) {
    meta.Key("run_attempt").Int(attempt->get_int64().value_unsafe());
  }
  meta.Field("workflow_id", *workflow_id);
  if (auto path = run->StringOr("path")) meta.Field("workflow_path", *path);
  if (!sha.empty()) meta.Field("head_sha", sha);
  if (!conclusion.empty()) meta.Field("conclusion", conclusion);
  meta.EndObject();
  r.metadata_json = meta.Take();

  CAUSELOOP_TRY_ASSIGN(out, Finish(std::move(r), "github", action));
  return Records{std::move(out)};
}

}  // namespace

Result<Records> ParseGitHub(const HeaderLookup& headers, simdjson::dom::element payload) {
  auto event = HeaderValue(headers, "x-github-event");
  if (!event) {
    return Fail(FieldError("x-github-event", "the X-GitHub-Event header is required"));
  }
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  std::string name = LowerAscii(*event);
  if (name == "issues") return IssuesEvent(root);
  if (name == "workflow_run") return WorkflowRunEvent(root);
  return Records{};
}

}  // namespace causeloop::webhooks::inbound::internal
