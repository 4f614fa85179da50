#pragma once
// Settings of `causeloop serve` and the admin commands: flags, then CAUSELOOP_* environment
// variables, then an optional config file (KEY=VALUE lines with the environment names),
// then defaults — in that order of precedence.

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace causeloop::app {

struct Setting {
  std::string flag;  // "--listen"
  std::string env;   // "CAUSELOOP_LISTEN"
  std::string default_value;
  std::string help;
  bool is_switch = false;  // a flag without a value
};

// Every setting, documented by --help.
const std::vector<Setting>& AllSettings();

class Config {
 public:
  // Parses `args` (after the subcommand). Unknown flags are an error; positional arguments
  // are collected.
  static Result<Config> Parse(const std::vector<std::string>& args);

  // The effective value of a setting by its flag name ("--listen").
  [[nodiscard]] std::string Get(const std::string& flag) const;
  [[nodiscard]] bool GetBool(const std::string& flag) const;
  [[nodiscard]] Result<long long> GetInt(const std::string& flag) const;
  [[nodiscard]] const std::vector<std::string>& positional() const { return positional_; }
  [[nodiscard]] bool help() const { return help_; }

 private:
  std::vector<std::pair<std::string, std::string>> flags_;
  std::vector<std::pair<std::string, std::string>> file_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// The --help text for `causeloop serve` (and the admin commands).
std::string SettingsHelp();

}  // namespace causeloop::app
