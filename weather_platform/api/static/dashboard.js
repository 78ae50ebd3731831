// Draws the dashboard's Plotly figures from the data the server embedded in the page (no other request).
"use strict";

const LAYOUT = {margin: {l: 50, r: 20, t: 60, b: 50}, font: {family: "system-ui, sans-serif", size: 12},
                paper_bgcolor: "white", plot_bgcolor: "#fafafa",
                legend: {orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom"}};
const CONFIG = {displaylogo: false, responsive: true};

function readData() {
  return JSON.parse(document.getElementById("data").textContent);
}

function layout(title, extra) {
  return Object.assign({}, LAYOUT, {title: {text: title, x: 0.01, xanchor: "left", y: 0.97}}, extra || {});
}

async function drawMap(id, rows) {
  const land = await (await fetch("/static/land-110m.json")).json();
  const outline = {x: [], y: []};
  for (const ring of land.rings) {
    for (const [lon, lat] of ring) { outline.x.push(lon); outline.y.push(lat); }
    outline.x.push(null); outline.y.push(null);
  }
  const traces = [
    {type: "scatter", mode: "lines", x: outline.x, y: outline.y, hoverinfo: "skip", showlegend: false,
     line: {color: "#b9c3cc", width: 1}},
    {type: "scatter", mode: "markers+text", x: rows.map(r => r.longitude), y: rows.map(r => r.latitude),
     text: rows.map(r => `${r.city} ${r.temperature}°`), textposition: "top center", showlegend: false,
     customdata: rows.map(r => [r.city, r.country || "", r.feels_like_c, r.humidity, r.wind_speed,
                               r.weather_description || r.weather_main || "", r.age_minutes]),
     hovertemplate: "%{customdata[0]} %{customdata[1]}<br>%{marker.color} °C, feels like %{customdata[2]} °C" +
                    "<br>humidity %{customdata[3]} %, wind %{customdata[4]} m/s<br>%{customdata[5]}" +
                    "<br>%{customdata[6]} min ago<extra></extra>",
     marker: {size: 12, color: rows.map(r => r.temperature), colorscale: "RdBu",
              colorbar: {title: {text: "°C"}}, line: {color: "#333", width: 1}}},
  ];
  await Plotly.newPlot(id, traces, layout("Latest temperature", {
    xaxis: {range: [-180, 180], showgrid: false, zeroline: false, visible: false},
    yaxis: {range: [-60, 85], showgrid: false, zeroline: false, visible: false, scaleanchor: "x"},
    plot_bgcolor: "#eef5fb"}), CONFIG);
}

function drawCity(rows, grain) {
  const x = rows.map(r => grain === "hourly" ? r.hour_start : r.date);
  const col = name => rows.map(r => r[name]);
  Plotly.newPlot("temperature-chart", [
    {x, y: col("max_temperature"), name: "max", mode: "lines", line: {width: 0}, showlegend: false},
    {x, y: col("min_temperature"), name: "min–max", mode: "lines", fill: "tonexty", line: {width: 0},
     fillcolor: "rgba(214,96,77,0.25)"},
    {x, y: col("avg_temperature"), name: "mean", mode: "lines+markers", line: {color: "#b2182b"}},
  ], layout("Temperature [°C]"), CONFIG);
  Plotly.newPlot("feels-chart", [
    {x, y: col("avg_feels_like_c"), name: "feels like", mode: "lines+markers"},
    {x, y: col("avg_heat_index"), name: "heat index", mode: "lines+markers"},
    {x, y: col("avg_temperature"), name: "air", mode: "lines", line: {dash: "dot", color: "#999"}},
  ], layout("Feels like / heat index [°C]"), CONFIG);
  Plotly.newPlot("precipitation-chart", [
    {x, y: col("total_rain_mm"), name: "rain", type: "bar", marker: {color: "#2166ac"}},
    {x, y: col("total_snow_mm"), name: "snow", type: "bar", marker: {color: "#92c5de"}},
  ], layout("Precipitation [mm]", {barmode: "stack"}), CONFIG);
  Plotly.newPlot("humidity-chart", [{x, y: col("avg_humidity"), name: "humidity", mode: "lines+markers"}],
                 layout("Humidity [%]", {yaxis: {range: [0, 100]}}), CONFIG);
  Plotly.newPlot("pressure-chart", [{x, y: col("avg_pressure"), name: "pressure", mode: "lines+markers"}],
                 layout("Pressure [hPa]"), CONFIG);
  Plotly.newPlot("wind-chart", [
    {x, y: col("avg_wind_speed"), name: "mean", mode: "lines+markers"},
    {x, y: col("max_wind_speed"), name: "max", mode: "lines", line: {dash: "dot"}},
  ], layout("Wind [m/s]"), CONFIG);
  document.body.dataset.rendered = performance.now();  // when the charts are drawn (make bench reads it)
}

function drawCompare(id, series, label) {
  Plotly.newPlot(id, series.map(s => ({x: s.x, y: s.y, name: s.city, mode: "lines+markers"})),
                 layout(label), CONFIG);
}

function drawCompleteness(id, cells) {
  if (!cells.length) return;
  const days = [...new Set(cells.map(c => c.date))].sort();
  const cities = [...new Set(cells.map(c => c.country ? `${c.city}, ${c.country}` : c.city))].sort();
  const z = cities.map(() => days.map(() => null));
  for (const c of cells) {
    const name = c.country ? `${c.city}, ${c.country}` : c.city;
    z[cities.indexOf(name)][days.indexOf(c.date)] = c.completeness;
  }
  Plotly.newPlot(id, [{type: "heatmap", x: days, y: cities, z, zmin: 0, zmax: 1, colorscale: "Greens",
                       reversescale: true, xgap: 2, ygap: 2, colorbar: {tickformat: ".0%"},
                       hovertemplate: "%{y} %{x}: %{z:.0%} of the expected hours<extra></extra>"}],
                 layout("Completeness", {margin: {l: 140, r: 20, t: 60, b: 60}, xaxis: {type: "category"}}), CONFIG);
}
