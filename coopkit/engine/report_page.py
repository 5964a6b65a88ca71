"""The style sheet and the self-check script that report.html carries inline.

The script runs in the reader's browser once the page has loaded: it decodes every picture (by
drawing it on a canvas) and measures every curve, and writes what it found into ``<pre id="self-check">`` as JSON::

    {"done": true, "images": 12, "broken": [], "charts": 14, "empty": 0, "undrawn": []}

``broken`` names the pictures that do not decode (by their ``alt``), ``undrawn`` the charts
(by title) whose series draw nothing; ``empty`` counts charts of series without one finite value.
A headless browser can load the page and read the result (the tests do: tests/test_report_html.py).
"""

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1320px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
.description { color: #444; max-width: 60em; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
table.facts th { background: #f5f5f5; font-weight: 600; }
table.stopped tr:nth-child(4) td { color: #b00; font-weight: 600; }
nav { margin: .8em 0; }
.charts { display: flex; flex-wrap: wrap; gap: 10px; }
svg.curve { border: 1px solid #e3e3e3; background: #fff; font-size: 10px; }
svg.curve .title { font-size: 12px; font-weight: 600; }
svg.curve .plot { fill: #fcfcfc; stroke: #999; }
svg.curve .grid { stroke: #e6e6e6; }
svg.curve .tick { stroke: #999; }
svg.curve .marker { stroke: #b00; stroke-dasharray: 4 3; }
svg.curve path.series { fill: none; stroke-width: 1.3; }
svg.curve .note { fill: #b00; font-size: 12px; }
svg.curve rect.legend { fill: #fff; fill-opacity: .85; stroke: #ddd; }
table.samples td { min-width: 180px; }
figure { margin: 0 0 .4em 0; display: inline-block; }
figcaption { font-size: 11px; color: #666; word-break: break-all; }
img.sample { display: block; width: 256px; max-width: 100%; image-rendering: pixelated; }
img.broken { outline: 3px solid #b00; }
.observed img.sample { width: 320px; }
.missing { color: #b00; }
.note { color: #555; font-size: 13px; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; }
"""

SCRIPT = """
function selfCheck() {
  const images = Array.from(document.images);
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d');
  const broken = [];
  for (const img of images) {
    try {  // drawing decodes now; a picture that does not decode is 'broken' and throws
      if (!img.complete || !img.naturalWidth) throw new Error('not decoded');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      context.drawImage(img, 0, 0);
    } catch (error) {
      broken.push(img.alt || img.title || 'image');
      img.classList.add('broken');
    }
  }
  const charts = Array.from(document.querySelectorAll('svg.curve'));
  const undrawn = [];
  let empty = 0;
  for (const svg of charts) {
    if (svg.dataset.empty) { empty += 1; continue; }
    const series = Array.from(svg.querySelectorAll('.series'));
    const drawn = series.length > 0 && series.every((shape) => {
      const box = shape.getBBox();
      return box.width > 0 && box.x >= 0 && box.x + box.width <= svg.viewBox.baseVal.width;
    });
    if (!drawn) undrawn.push(svg.dataset.title);
  }
  const result = {done: true, images: images.length, broken, charts: charts.length, empty, undrawn};
  document.getElementById('self-check').textContent = JSON.stringify(result);
}
if (document.readyState === 'complete') selfCheck();
else window.addEventListener('load', selfCheck);
"""
