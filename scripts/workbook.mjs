// Reads an Excel workbook (.xlsx) back for the end-to-end tests, with read-excel-file
// (devDependency): each sheet's name, its header row and its rows as { header: value } objects.
import readXlsxFile from 'read-excel-file/node';

export async function readWorkbook(file) {
	const sheets = await readXlsxFile(file);
	return sheets.map(({ sheet, data }) => {
		const [header = [], ...rows] = data;
		const columns = header.map(String);
		return { name: sheet, columns, rows: rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? '']))) };
	});
}
