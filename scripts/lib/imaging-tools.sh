# shellcheck shell=bash
# The imaging tools the validator's third-party fixtures are written and checked with
# (services/validator/src/profiles/third-party/): files made by the tools radiology
# departments use, not by Flotilla's own generator.
#
#   dcmtk        img2dcm, dump2dcm write DICOM; dcmdump is the reference reader
#   imagemagick  convert writes PNG and JPEG (and the JPEG img2dcm wraps)
#   nifti-bin    nifti_tool (the NIfTI reference library's tool) writes NIfTI-1
#   plastimatch  writes MetaImage (.mha, .mhd/.raw) through ITK's MetaIO
#
#   flotilla_imaging_tools_ensure   installs the missing packages with apt-get when run
#                                   as root on Debian/Ubuntu, otherwise says exactly what
#                                   to install. Returns 1 when a tool is still missing.

_fit_say() { printf 'imaging tools: %s\n' "$*" >&2; }

# ImageMagick proper, not another program named convert earlier on PATH.
_fit_has_imagemagick() {
  local candidate
  for candidate in magick convert-im6.q16 convert; do
    command -v "$candidate" >/dev/null 2>&1 && "$candidate" -version 2>/dev/null | grep -q '^Version: ImageMagick' && return 0
  done
  return 1
}

# The Debian packages whose tools are missing, one per line.
_fit_missing_packages() {
  { command -v img2dcm && command -v dump2dcm && command -v dcmdump; } >/dev/null 2>&1 || echo dcmtk
  _fit_has_imagemagick || echo imagemagick
  command -v nifti_tool >/dev/null 2>&1 || echo nifti-bin
  command -v plastimatch >/dev/null 2>&1 || echo plastimatch
}

flotilla_imaging_tools_ensure() {
  local missing
  mapfile -t missing < <(_fit_missing_packages)
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    _fit_say "installing ${missing[*]} for the validator's third-party fixtures (apt-get install ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
      _fit_say "apt-get could not install ${missing[*]}"
      return 1
    }
    mapfile -t missing < <(_fit_missing_packages)
    ((${#missing[@]} == 0)) && return 0
    _fit_say "still missing after apt-get: ${missing[*]}"
    return 1
  fi
  _fit_say "missing ${missing[*]}. Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}); the validator's third-party fixture tests need img2dcm, dump2dcm, dcmdump, ImageMagick's convert, nifti_tool and plastimatch on PATH."
  return 1
}
