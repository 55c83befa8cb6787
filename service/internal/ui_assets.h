// service/internal/ui_assets.h: the operator console's files (service/ui/), compiled into the
// binary. The definition is generated at build time by cmake/embed_files.cmake from the files
// listed in service/CMakeLists.txt, so the daemon serves the console without reading any file
// and nothing of it comes from another origin.

#pragma once

#include <span>
#include <string_view>

namespace certdeploy::service {

struct UiAsset {
  std::string_view name;          // File name under service/ui/, e.g. "app.js".
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8".
  std::string_view body;
};

// Every embedded file, in the order listed at build time.
std::span<const UiAsset> UiAssets();

}  // namespace certdeploy::service
