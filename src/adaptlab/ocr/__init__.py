"""OCR for scanned documents: Tesseract reads page images, a confidence gate keeps garbage out.

`engine` runs Tesseract, `gate` decides which pages are good enough to index, `pages` turns
PDFs and image files into page images and OCR outcomes, `metrics` measures CER/WER, and
`synthetic` renders text into (optionally degraded) images for tests and benchmarks.
"""

from adaptlab.ocr.engine import OcrResult, OcrUnavailableError, TesseractOcr
from adaptlab.ocr.gate import GateDecision, QualityGate

__all__ = ["GateDecision", "OcrResult", "OcrUnavailableError", "QualityGate", "TesseractOcr"]
