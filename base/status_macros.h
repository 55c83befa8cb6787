// base/status_macros.h: the only control-flow macros in certdeploy.
//
//   RETURN_IF_ERROR(store.Checkpoint(id, step));
//   ASSIGN_OR_RETURN(auto chain, BuildChain(leaf, pool));

#pragma once

#include "base/result.h"
#include "base/status.h"

#define CERTDEPLOY_CONCAT_INNER_(a, b) a##b
#define CERTDEPLOY_CONCAT_(a, b) CERTDEPLOY_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                             \
  do {                                                    \
    ::certdeploy::Status certdeploy_status_ = (expr);     \
    if (!certdeploy_status_.ok()) return certdeploy_status_; \
  } while (false)

#define CERTDEPLOY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                      \
  if (!tmp.ok()) return tmp.status();                     \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  CERTDEPLOY_ASSIGN_OR_RETURN_IMPL_(CERTDEPLOY_CONCAT_(certdeploy_result_, __LINE__), lhs, expr)
