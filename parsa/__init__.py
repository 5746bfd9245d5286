"""Parsa: claims links from booru and resolves each into direct image URLs.

* `parsa.resolvers`: the registry (`normalize`, `classify`, `find_resolver`, `resolve`) of one
  module per site, each with `type`, `pattern`, `examples` and `resolve(url, ctx)`.
* `parsa.worker`: the daemon — claim (per `--type` / PARSA_TYPES), resolve on a thread pool,
  post the images, report each link done, failed (retried) or dead/unsupported (permanent).
"""
