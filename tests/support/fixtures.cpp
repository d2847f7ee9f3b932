#include "fixtures.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

namespace fortisim::test {

const std::string captured_request =
    R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","__version":"4","license_activation_code":"DA8C-0508-1F31-4CF7-C990","serial_number":"FG4H0ETB20900993","__device_version":"6.0","__device_build":"6325","__clustered_sns":[{"sn":"FG4H0ETB20900993"},{"sn":"FG4H0E5819900260"}]}})";
const std::string captured_reply =
    R"({"d":{"__type":"SoftToken.ActivationLicenseResponse","__version":"4","serial_number":"FG4H0ETB20900993","__device_version":"6.0","__device_build":"6325","__clustered_sns":[{"sn":"FG4H0E5819900260","error":null},{"sn":"FG4H0ETB20900993","error":null}],"license_activation_code":"DA8C-0508-1F31-4CF7-C990","license":"","tokens":null,"result":0,"error":{"error_code":14,"error_message":"forticare license expired"}}})";

std::shared_ptr<const core::scenario> scenario_from(const std::string& json_text) {
  auto r = core::parse_scenario(json_text, "test scenario");
  INFO(r.describe());
  REQUIRE(r.value.has_value());
  return std::make_shared<const core::scenario>(std::move(*r.value));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shipped(const std::string& name) {
  return read_file(std::string(FORTISIM_SOURCE_DIR) + "/scenarios/" + name);
}

std::string import_request(const std::string& code, const std::string& serial, std::vector<std::string> members) {
  protocol::json d{{"__type", "SoftToken.ActivationLicenseRequest"},
                   {"__version", "4"},
                   {"license_activation_code", code},
                   {"serial_number", serial},
                   {"__device_version", "7.2"},
                   {"__device_build", "1234"}};
  auto sns = protocol::json::array();
  for (const auto& m : members) sns.push_back({{"sn", m}});
  d["__clustered_sns"] = sns;
  return protocol::json{{"d", d}}.dump();
}

}  // namespace fortisim::test
