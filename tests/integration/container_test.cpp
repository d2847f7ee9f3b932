// The container image's text, checked without a container engine (scripts/container-test.sh builds
// and runs the image itself, in CI's "package" stage): scripts/packages.txt is the one package list
// and the Dockerfile names no package itself; the Dockerfile has what the lab needs (the Debian
// package built in a first stage or given from dist/, installed on Debian 12 slim, tests on
// demand, a non-root user with a file capability, the health check, the ports, the volume); the
// run packages hold every shared library the binary loads; the entry point's choice of control API
// address; and fortisim-control against the real binary. hadolint runs where it is installed (no
// Debian 12 package has it: elsewhere that check is skipped).
#include "prelude.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace {

/// scripts/packages.txt: package -> kind.
std::map<std::string, std::string> package_list() {
  std::map<std::string, std::string> kinds;
  std::istringstream in(read_file(source + "/scripts/packages.txt"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string name, kind, why;
    if (!(fields >> name) || name.starts_with('#')) continue;
    fields >> kind;
    std::getline(fields, why);
    CAPTURE(line);
    CHECK((kind == "build" || kind == "run" || kind == "test" || kind == "browser" || kind == "image"));
    CHECK(why.find_first_not_of(' ') != std::string::npos);  // every package says why it is there
    CHECK(kinds.emplace(name, kind).second);
  }
  return kinds;
}

/// The Dockerfile's lines that are not comments, one string.
std::string dockerfile_instructions() {
  std::istringstream in(read_file(source + "/Dockerfile"));
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (!line.starts_with('#')) out += line + "\n";
  return out;
}

/// The shell's stdout and exit status, as "OUTPUT\nexit N".
std::string run_status(const std::string& cmd) { return run(cmd + "; echo \"exit $?\""); }

}  // namespace

TEST_SUITE("container") {

TEST_CASE("scripts/packages.txt: each line a package, its kind and why, and install-deps.sh --list reads it") {
  auto kinds = package_list();
  for (const char* kind : {"build", "run", "test", "browser", "image"}) {
    std::string expected;
    for (const auto& [name, k] : kinds)
      if (k == kind) expected += name + "\n";
    auto listed = run("sh " + source + "/scripts/install-deps.sh --list " + kind);
    std::istringstream in(listed);
    std::set<std::string> got;
    for (std::string name; in >> name;) got.insert(name);
    std::string got_text;
    for (const auto& name : got) got_text += name + "\n";
    CHECK(got_text == expected);
  }
  CHECK(run_status("sh " + source + "/scripts/install-deps.sh --list nightly 2>&1").find("exit 2") !=
        std::string::npos);
}

TEST_CASE(
    "the Dockerfile names no package: the build stage installs from scripts/packages.txt, the runtime stage the "
    "package made from this tree") {
  auto text = dockerfile_instructions();
  // apt-get only refreshes its lists and installs the package the first stage made (or dist/ holds),
  // which brings its run packages as dependencies (cmake/package.cmake).
  for (const char* allowed :
       {"apt-get update -qq", "apt-get install -y -qq --no-install-recommends /tmp/fortisim/fortisim_*_*.deb"}) {
    auto at = text.find(allowed);
    REQUIRE_MESSAGE(at != std::string::npos, allowed);
    text.erase(at, std::string(allowed).size());
  }
  CHECK(text.find("apt-get") == std::string::npos);
  CHECK(text.find("dpkg") == std::string::npos);
  for (const auto& [name, kind] : package_list()) {
    std::regex word("(^|[^A-Za-z0-9.+_-])" + std::regex_replace(name, std::regex(R"([.+])"), R"(\$&)") +
                    "($|[^A-Za-z0-9.+_-])");
    const auto& package = name;  // clang 14 cannot capture a structured binding
    CHECK_MESSAGE(!std::regex_search(text, word), package << " is named in the Dockerfile");
  }
  auto runtime = text.find("FROM ${BASE_SLIM}\n");
  REQUIRE(runtime != std::string::npos);
  std::string build = text.substr(0, runtime), final_stage = text.substr(runtime);
  CHECK(build.find("COPY scripts/packages.txt scripts/install-deps.sh scripts/") != std::string::npos);
  CHECK(build.find("sh scripts/install-deps.sh $kinds") != std::string::npos);
  CHECK(build.find("sh scripts/package.sh /dist") != std::string::npos);
  CHECK(final_stage.find("install-deps.sh image ") != std::string::npos);
  CHECK(final_stage.find("FORTISIM_DEPS") == std::string::npos);  // the runtime stage: run packages only
}

TEST_CASE(
    "the Dockerfile: Debian 12, the package built or given, tests on demand, a non-root user that binds 443, health "
    "check, ports, volume") {
  auto text = dockerfile_instructions();
  for (const char* line :
       {"ARG BASE=debian:12\n", "ARG BASE_SLIM=debian:12-slim\n", "ARG FORTISIM_DEB=build\n",
        "FROM ${BASE} AS deb-build\n", "ARG RUN_TESTS=0\n", "FROM ${BASE} AS deb-given\n",
        "COPY scripts/packages.txt dist* /dist/\n", "FROM deb-${FORTISIM_DEB} AS deb\n", "FROM ${BASE_SLIM}\n",
        "COPY --from=deb /dist/ /tmp/fortisim/\n", "RUN setcap cap_net_bind_service=+ep /usr/bin/fortisim",
        "VOLUME /data\n", "USER fortisim\n", "EXPOSE 443/tcp 53/udp 53/tcp 8080/tcp\n",
        "CMD [\"fortisim-control\", \"--health\"]\n", "ENTRYPOINT [\"fortisim-entrypoint\"]\n"})
    CHECK_MESSAGE(text.find(line) != std::string::npos, line);
  CHECK(text.find("ctest") != std::string::npos);
  CHECK(text.find("HEALTHCHECK ") < text.find("ENTRYPOINT"));
  CHECK(text.find("setcap") < text.find("USER fortisim"));  // root sets the capability, then steps down
  CHECK(text.find("useradd") < text.find("USER fortisim"));
  for (const char* copied : {"scripts/packages.txt", "scripts/install-deps.sh", "scripts/package.sh",
                             "docker/entrypoint.sh", "docker/control.sh"})
    CHECK_MESSAGE(std::filesystem::exists(source + "/" + copied), copied);
}

TEST_CASE("hadolint finds nothing to say about the Dockerfile") {
  if (run("command -v hadolint").empty())
    return skip_test_without_package("hadolint is not installed (Debian 12 does not package it)");
  CHECK(run_status("hadolint " + source + "/Dockerfile 2>&1").ends_with("exit 0\n"));
}

TEST_CASE("the run packages hold every shared library the binary loads (debian:12-slim has libc and libstdc++)") {
  if (run("command -v dpkg-query >/dev/null && command -v ldd").empty())
    return skip_test("no dpkg-query or ldd here (Debian's dpkg and libc-bin)");
  auto kinds = package_list();
  const std::set<std::string> in_slim{"libc6", "libgcc-s1", "libstdc++6", "zlib1g"};  // dpkg and apt need them
  std::istringstream ldd(run(std::string("ldd '") + FORTISIM_BINARY + "'"));
  int libraries = 0;
  for (std::string line; std::getline(ldd, line);) {
    auto arrow = line.find("=> /");
    if (arrow == std::string::npos) continue;
    auto path = line.substr(arrow + 3, line.find(' ', arrow + 3) - arrow - 3);
    auto real = std::filesystem::canonical(path).string();
    // Merged /usr: dpkg may know the file under /lib rather than /usr/lib, where it really is.
    auto unmerged = real.starts_with("/usr/") ? real.substr(4) : real;
    auto owner = run("dpkg-query -S '" + real + "' 2>/dev/null || dpkg-query -S '" + unmerged + "' 2>/dev/null");
    auto package = owner.substr(0, owner.find_first_of(":\n"));
    CAPTURE(line);
    CAPTURE(owner);
    if (package.starts_with("libasan") || package.starts_with("libubsan")) continue;  // scripts/sanitize.sh
    ++libraries;
    CHECK((in_slim.contains(package) || (kinds.contains(package) && kinds[package] == "run")));
  }
  CHECK(libraries >= 6);
}

TEST_CASE("docker/entrypoint.sh: the control API on loopback without a token, on 0.0.0.0:8080 with one") {
  temp_folder folder("entrypoint");
  const std::string& dir = folder.path();
  folder.write("fortisim", "#!/bin/sh\nfor a in \"$@\"; do printf '%s ' \"$a\"; done\necho\n");
  std::filesystem::permissions(dir + "/fortisim", std::filesystem::perms::owner_all);
  folder.write("ready.json", "{\"event\":\"ready\"}\n");
  std::string env = "env -i PATH='" + dir + ":/usr/bin:/bin' FORTISIM_READY_FILE='" + dir + "/ready.json' ";
  std::string entry = "sh " + source + "/docker/entrypoint.sh";
  std::string serve =
      "serve --listen 0.0.0.0:443 --data /data --scenario /usr/share/fortisim/scenarios/default.json "
      "--ready-file " +
      dir + "/ready.json ";

  auto without = run(env + entry + " --dns 0.0.0.0:53 2>" + dir + "/err");
  CHECK(without == serve + "--admin 127.0.0.1:8080 --dns 0.0.0.0:53 \n");
  CHECK(read_file(dir + "/err").find("FORTISIM_ADMIN_TOKEN is not set") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/ready.json"));  // an old ready line is gone before fortisim starts

  auto with = run(env + "FORTISIM_ADMIN_TOKEN=s3cret FORTISIM_SCENARIO=/s/flaky.json " + entry + " serve --quiet");
  CHECK(with == "serve --listen 0.0.0.0:443 --data /data --scenario /s/flaky.json --ready-file " + dir +
                    "/ready.json --admin 0.0.0.0:8080 --admin-token s3cret --quiet \n");
  CHECK(run(env + entry + " lab-config --address 192.0.2.10") == "lab-config --address 192.0.2.10 \n");
}

TEST_CASE("fortisim-control: a real fortisim's control API with bash alone, its token, and the health check") {
  temp_folder folder("control");
  const std::string& dir = folder.path();
  served_binary p({"--admin", "127.0.0.1:0", "--admin-token", "s3cret", "--scenario",
                   source + "/scenarios/default.json", "--threads", "1", "--ready-file", dir + "/ready.json"});
  // --ready-file holds the ready line of stdout, whole, by the time stdout has it.
  CHECK(read_file(dir + "/ready.json") == p.ready().dump() + "\n");
  CHECK_FALSE(std::filesystem::exists(dir + "/ready.json.tmp"));
  std::string admin = "FORTISIM_CONTROL=127.0.0.1:" + std::to_string(p.admin_port());
  std::string control = admin + " FORTISIM_READY_FILE='" + dir + "/ready.json' bash " + source + "/docker/control.sh";
  std::string token = "FORTISIM_ADMIN_TOKEN=s3cret ";

  auto status = run_status(token + control + " GET /status 2>&1");
  CHECK(status.ends_with("exit 0\n"));
  CHECK(status.find("\"scenario\"") != std::string::npos);
  CHECK(run_status(token + control + " POST /clock '{\"advance_s\": 60}' 2>&1").ends_with("exit 0\n"));
  CHECK(run_status(token + control + " GET /no-such-call 2>&1").find("HTTP 404") != std::string::npos);
  auto refused = run_status(control + " GET /status 2>&1");  // no token: 401
  CHECK(refused.find("HTTP 401") != std::string::npos);
  CHECK(refused.ends_with("exit 1\n"));

  // The health check: not without a ready line (a fortisim still starting), then yes.
  std::string starting = admin + " FORTISIM_READY_FILE='" + dir + "/none.json' bash " + source + "/docker/control.sh";
  auto early = run_status(token + starting + " --health 2>&1");
  CHECK(early.find("not ready yet") != std::string::npos);
  CHECK(early.ends_with("exit 1\n"));
  CHECK(run_status(token + control + " --health 2>&1").ends_with("exit 0\n"));
  CHECK(p.stop() == 0);
  CHECK(run_status(token + control + " --health 2>&1").ends_with("exit 2\n"));  // nothing answers any more
}

TEST_CASE("docs/compose.yaml: the DNS responder on the lab address, the ports, the volume, the token from a file") {
  auto text = read_file(source + "/docs/compose.yaml");
  for (const char* part :
       {"\"--dns\", \"0.0.0.0:53\"", "\"--dns-answer\", \"${LAB_IP", "\"--dns-upstream\", \"${DNS_UPSTREAM",
        "${LAB_IP}:443:443/tcp", "${LAB_IP}:53:53/udp", "${LAB_IP}:53:53/tcp", "127.0.0.1:8080:8080/tcp",
        "fortisim-data:/data", "env_file:", "healthcheck:", "fortisim-control"})
    CHECK_MESSAGE(text.find(part) != std::string::npos, part);
}

TEST_CASE("the admin token file of docs/compose.yaml is ignored by git and kept out of the image build") {
  for (const char* ignore : {"/.gitignore", "/.dockerignore"}) {
    CAPTURE(ignore);
    CHECK(read_file(source + ignore).find("\ndocs/fortisim.env\n") != std::string::npos);
  }
}

TEST_CASE("docs/compose.yaml parses as YAML: four ports and the data volume") {
  if (run("/usr/bin/python3 -c 'import yaml' 2>&1 && echo ok") != "ok\n")
    return skip_test("Debian's python3-yaml is not installed (scripts/packages.txt lists it)");
  auto parsed =
      run("/usr/bin/python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' " +
          source + "/docs/compose.yaml");
  auto compose = json::parse(parsed, nullptr, false);
  REQUIRE(compose.is_object());
  CHECK(compose["services"]["fortisim"]["ports"].size() == 4);
  CHECK(compose["volumes"].contains("fortisim-data"));
}

}  // TEST_SUITE
