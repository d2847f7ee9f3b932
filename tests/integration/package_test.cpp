// What the Debian package carries besides the binary, checked against the binary itself:
// fortisim(1) (packaging/manpage.sh writes it from --help at build time) has a section for every
// subcommand and renders without a warning; the bash completion (packaging/fortisim.bash) offers
// what --help lists; and scripts/package.sh makes the two packages with what cmake/install.cmake
// and cmake/package.cmake say, their dependencies from scripts/packages.txt. The package installed
// on a clean root and run there is scripts/container-test.sh's (CI's "package" stage).
#include "prelude.hpp"

#include "../support/sanitized.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <vector>

namespace {

const std::string binary = FORTISIM_BINARY;
const std::string build_dir = std::filesystem::path(binary).parent_path().string();

/// The subcommands a help text lists under "Subcommands:".
std::vector<std::string> subcommands_in(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  bool on = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "Subcommands:")
      on = true;
    else if (line.empty())
      on = false;
    else if (on && line.starts_with("  ") && line[2] != ' ')
      out.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return out;
}

/// Every subcommand path, depth first: "serve", "client", "client import", ...
std::vector<std::string> subcommand_paths(const std::string& prefix = "") {
  std::vector<std::string> out;
  for (const auto& sub : subcommands_in(run(binary + " " + prefix + " --help"))) {
    auto path = prefix.empty() ? sub : prefix + " " + sub;
    out.push_back(path);
    for (auto& deeper : subcommand_paths(path)) out.push_back(deeper);
  }
  return out;
}

/// The long options a help text lists ("--listen", "--key-type", ...).
std::set<std::string> options_in(const std::string& help) {
  std::set<std::string> out;
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("  -")) continue;
    auto names = line.substr(2, line.find(' ', 2) - 2);
    for (auto at = names.find("--"); at != std::string::npos; at = names.find("--", at + 2))
      out.insert(names.substr(at, names.find(',', at) - at));
  }
  return out;
}

/// What bash completes for the words typed (the last one being completed), one answer a line.
std::string complete(const std::string& words) {
  temp_folder folder("completion");
  auto script = folder.write("complete.sh", "source '" + source + "/packaging/fortisim.bash'\n" + "COMP_WORDS=(" +
                                                words + ")\n" + "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n" +
                                                "_fortisim\n"
                                                "printf '%s\\n' \"${COMPREPLY[@]}\"\n");
  return run("cd '" + folder.path() + "' && bash '" + script + "'");
}

}  // namespace

TEST_SUITE("package") {

TEST_CASE("fortisim(1): a section for every subcommand, every option its --help lists, and the version") {
  auto page = read_file(build_dir + "/fortisim.1");
  auto paths = subcommand_paths();
  CHECK(paths.size() >= 10);  // serve, validate, certs, lab-config, client and its five, state check
  for (const auto& path : paths) {
    CAPTURE(path);
    CHECK(page.find(".SS \"fortisim " + path + "\"\n") != std::string::npos);
    for (const auto& option : options_in(run(binary + " " + path + " --help"))) {
      CAPTURE(option);
      CHECK(page.find(option) != std::string::npos);
    }
  }
  auto version = run(binary + " --version");
  CHECK(page.find("\"" + version.substr(0, version.find('\n')) + "\"") != std::string::npos);
  // Defaults that depend on who builds it are written for a home of "~".
  CHECK(page.find("--data TEXT=~/.local/share/fortisim") != std::string::npos);
  CHECK(std::filesystem::exists(build_dir + "/fortisim.1.gz"));
}

TEST_CASE("fortisim(1) renders with man, without a warning") {
  if (run("command -v man").empty()) return skip_test_without_package("man is not installed (Debian's man-db)");
  auto out = run("MANWIDTH=100 man --warnings -l '" + build_dir + "/fortisim.1' 2>&1 >/dev/null; echo \"exit $?\"");
  CHECK(out == "exit 0\n");
  auto text = run("MANWIDTH=100 man -l '" + build_dir + "/fortisim.1' 2>/dev/null");
  for (const char* heading : {"NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS", "FILES", "EXIT STATUS"})
    CHECK_MESSAGE(text.find(std::string("\n") + heading + "\n") != std::string::npos, heading);
  CHECK(text.find("fortisim serve") != std::string::npos);
}

TEST_CASE("bash completion: subcommands, a subcommand's and its parents' options, choices, files") {
  if (run("command -v bash").empty()) return skip_test("no bash here");
  CHECK(complete("'" + binary + "' se") == "serve\n");
  CHECK(complete("'" + binary + "' client ''") == "import\npoll\nprovision\nactivate\nphone\n");
  CHECK(complete("'" + binary + "' serve --key-t") == "--key-type\n");
  CHECK(complete("'" + binary + "' serve --key-type ''") == "ecdsa\nrsa\n");
  CHECK(complete("'" + binary + "' client import --js") == "--json\n");  // the parent's option
  CHECK(complete("'" + binary + "' state c") == "check\n");
  CHECK(complete("'" + binary + "' serve --threads ''") == "\n");  // a number: nothing offered
  // After a flag (no value), the next word is completed as if it were not there.
  CHECK(complete("'" + binary + "' client --json ''") == "import\npoll\nprovision\nactivate\nphone\n");
  CHECK(complete("'" + binary + "' client --json --ser") == "--server\n--serial\n");
  // Each option once, and none of the top level's (--version is refused after a subcommand).
  auto options = complete("'" + binary + "' client import --");
  CHECK(options.starts_with("--help\n--server\n"));
  CHECK(options.find("--help", 1) == std::string::npos);
  CHECK(options.find("--version") == std::string::npos);
  CHECK(options.find("--json\n") != std::string::npos);

  // What a --help prints is offered as words, never run: a binary whose help holds $(…) makes
  // nothing happen, and one that never answers costs 2 s, not a hung shell.
  temp_folder fake("completion-fake");
  auto pwned = fake.file("pwned");
  auto evil = fake.write("evil", "#!/bin/sh\nprintf 'Options:\\n  --$(touch " + pwned +
                                     ")  Print\\n\\nSubcommands:\\n  a$(touch " + pwned + ")  x\\n\\n'\n");
  auto sleeper = fake.write("sleeper", "#!/bin/sh\nexec sleep 30\n");
  REQUIRE(run("chmod +x '" + evil + "' '" + sleeper + "'; echo ok") == "ok\n");
  CHECK(complete("'" + evil + "' --") == "--$(touch\n");
  CHECK(complete("'" + evil + "' ''") == "a$(touch\n");
  CHECK_FALSE(std::filesystem::exists(pwned));
  auto started = std::chrono::steady_clock::now();
  CHECK(complete("'" + sleeper + "' ''") == "\n");
  CHECK(std::chrono::steady_clock::now() - started < 20s);
  CHECK(complete("'" + binary + "' serve --scenario '" + source + "/scenarios/expired-l'") ==
        source + "/scenarios/expired-license.json\n");
}

TEST_CASE("scripts/package.sh: fortisim and fortisim-dev, their contents, dependencies and version") {
  if (run("command -v dpkg-deb && command -v cpack").empty()) return skip_test("no dpkg-deb or cpack here");
  // A sanitizer's build packages the same files, only larger: CI packages the plain build.
  if (sanitized) return skip_test("packages are checked in the plain build, not a sanitizer's");
  // Without it scripts/package.sh would build first; a test never starts a build.
  if (!std::filesystem::exists(build_dir + "/libfortisim.so"))
    return skip_test("this build has no libfortisim.so: configure it with -DFORTISIM_SHARED=ON, as CI does");
  temp_folder out("package");
  auto log = run("FORTISIM_BUILD='" + build_dir + "' sh '" + source + "/scripts/package.sh' '" + out.path() +
                 "' 2>&1; echo \"exit $?\"");
  INFO(log);
  REQUIRE(log.ends_with("exit 0\n"));
  auto version = run(binary + " --version").substr(std::string("fortisim ").size());
  version.pop_back();
  auto arch = run("dpkg --print-architecture");
  arch.pop_back();
  auto deb = out.file("fortisim_" + version + "_" + arch + ".deb");
  auto dev = out.file("fortisim-dev_" + version + "_" + arch + ".deb");
  REQUIRE(std::filesystem::exists(deb));
  REQUIRE(std::filesystem::exists(dev));
  CHECK(run("dpkg-deb -f '" + deb + "' Version") == version + "\n");

  // fortisim depends on the run packages of scripts/packages.txt, no more and no fewer.
  auto depends = run("dpkg-deb -f '" + deb + "' Depends");
  auto listed = run("sh " + source + "/scripts/install-deps.sh --list run | paste -sd, | sed 's/,/, /g'");
  CHECK(depends == listed);
  CHECK(run("dpkg-deb -f '" + dev + "' Depends").starts_with("fortisim (= " + version + "), "));
  CHECK(run("dpkg-deb -f '" + dev + "' Suggests") == "doctest-dev\n");  // what examples/cpp-fixture adds
  CHECK(run("dpkg-deb --ctrl-tarfile '" + dev + "' | tar xO ./triggers") == "activate-noawait ldconfig\n");
  CHECK(run("dpkg-deb -f '" + deb + "' Description").starts_with("simulator of Fortinet's"));  // one synopsis

  auto files = run("dpkg-deb -c '" + deb + "' | awk '{ print $6 }'");
  for (const char* file : {"./usr/bin/fortisim", "./usr/share/fortisim/scenarios/default.json",
                           "./usr/share/fortisim/scenarios/schema.json", "./usr/share/man/man1/fortisim.1.gz",
                           "./usr/share/bash-completion/completions/fortisim", "./usr/share/doc/fortisim/LICENSE",
                           "./usr/share/doc/fortisim/copyright", "./usr/share/doc/fortisim/CHANGELOG.md",
                           "./usr/share/doc/fortisim/README.md", "./usr/share/doc/fortisim/docs/lab-guide.md",
                           "./usr/share/doc/fortisim/examples/cpp-fixture/CMakeLists.txt",
                           "./usr/share/doc/fortisim/examples/pytest/test_licence_import.py",
                           "./usr/share/fortisim/python/pyproject.toml"})
    CHECK_MESSAGE(files.find(std::string(file) + "\n") != std::string::npos, file);
  CHECK(files.find("include/fortisim") == std::string::npos);  // those are fortisim-dev's
  CHECK(files.find(".env\n") == std::string::npos);            // a secret never ships
  auto dev_files = run("dpkg-deb -c '" + dev + "' | awk '{ print $6 }'");
  CHECK(dev_files.find("./usr/include/fortisim/fixture/fixture.hpp\n") != std::string::npos);
  CHECK(dev_files.find("/cmake/fortisim/fortisimConfig.cmake\n") != std::string::npos);
  CHECK(dev_files.find("/libfortisim.so.") != std::string::npos);
  CHECK(dev_files.find("/cmake/fortisim/fortisimSharedTargets.cmake\n") != std::string::npos);
  CHECK(dev_files.find("./usr/bin/fortisim\n") == std::string::npos);
}

}  // TEST_SUITE
